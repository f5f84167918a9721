import fs from 'node:fs';
import { credentialsFile, loadCredentials } from './login.command';

/** `palisade logout`: ends the session at identity (an API token stays valid: revoke it there) and forgets the credentials. */
export async function logoutCommand(): Promise<number> {
  const credentials = loadCredentials();
  if (credentials.kind === 'session') {
    // An expired or already revoked session is as logged out as it gets.
    await fetch(`${credentials.url}/v1/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${credentials.accessToken}` },
    }).catch(() => undefined);
  }
  fs.rmSync(credentialsFile(), { force: true });
  process.stdout.write('signed out; stored credentials removed\n');
  return 0;
}
