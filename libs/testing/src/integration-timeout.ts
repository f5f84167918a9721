// Integration and e2e tests start real servers and processes: give each test a minute.
// (jest's testTimeout is a global option; a project sets its own through this file.)
jest.setTimeout(60_000);
