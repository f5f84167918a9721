import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ConfigError, loadConfig, processConfigSchema } from '@palisade/config';
import { JetStreamTransport, MessagingRegistry } from '@palisade/messaging';
import { createLogger, httpMetricsMiddleware, PinoNestLogger, startTelemetry } from '@palisade/observability';
import type { Clock } from '@palisade/domain';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { PalisadeAppModule } from './app.module';
import { reportConsumers } from './runtime.metrics';
import { bodyParserErrorHandler } from './http/http-error.filter';
import { ServiceDefinition } from './service-definition';

export interface StartOptions {
  services: readonly ServiceDefinition[];
  env: Record<string, string | undefined>;
  /** Defaults to a pino logger on stdout at LOG_LEVEL. */
  logger?: Logger;
  /** What every service's CLOCK is (default: the system clock); tests pass one they move. */
  clock?: Clock;
}

export interface RunningPalisade {
  app: INestApplication;
  transport: JetStreamTransport;
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:8080 */
  url: string;
  stop(): Promise<void>;
}

/** Parses every service's configuration and throws ONE ConfigError listing every problem. */
export function loadServiceConfigs(
  services: readonly ServiceDefinition[],
  env: Record<string, string | undefined>,
): Map<string, unknown> {
  const configs = new Map<string, unknown>();
  const problems = new Map<string, ConfigError['problems'][number]>();
  for (const service of services) {
    try {
      configs.set(service.context.context, loadConfig(service.configSchema, env));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      // Shared settings fail once, not once per service.
      for (const problem of error.problems) problems.set(`${problem.key}:${problem.message}`, problem);
    }
  }
  if (problems.size) throw new ConfigError([...problems.values()]);
  return configs;
}

/**
 * Starts the given services in one process: one HTTP server (helmet, body limits, rate limit,
 * OpenAPI at /docs, /healthz, /readyz, /metrics) and the JetStream transport for their handlers.
 */
export async function startPalisade(options: StartOptions): Promise<RunningPalisade> {
  const configs = loadServiceConfigs(options.services, options.env);
  const base = loadConfig(processConfigSchema, options.env);
  const single = options.services.length === 1 ? options.services[0].context.context : undefined;
  const logger = options.logger ?? createLogger({ service: single, level: base.LOG_LEVEL });
  const telemetry = startTelemetry({
    serviceName:
      base.OTEL_SERVICE_NAME ?? `palisade-${options.services.map((s) => s.context.context).join('+')}`,
    otlpEndpoint: base.OTEL_EXPORTER_OTLP_ENDPOINT,
    mode: base.PALISADE_MODE,
  });
  let app: NestExpressApplication | undefined;
  try {
    app = await NestFactory.create<NestExpressApplication>(
      PalisadeAppModule.register({ services: options.services, configs, logger, clock: options.clock }),
      {
        logger: new PinoNestLogger(logger),
        abortOnError: false,
        bodyParser: false,
      },
    );
    app.use(httpMetricsMiddleware());
    app.use(helmet());
    app.useBodyParser('json', { limit: '256kb' });
    app.useBodyParser('urlencoded', { limit: '64kb', extended: false });
    app.use(bodyParserErrorHandler);
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder().setTitle('Palisade API').setVersion('1').addBearerAuth().build(),
    );
    SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
    const transport = new JetStreamTransport(app.get(MessagingRegistry));
    app.connectMicroservice({ strategy: transport }, { inheritAppConfig: true });
    reportConsumers(() => transport.list());
    await app.init();
    await app.startAllMicroservices();
    await app.listen(base.HTTP_PORT, base.HTTP_HOST);
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const running = app;
    let stopped: Promise<void> | undefined;
    return {
      app: running,
      transport,
      url,
      stop: () =>
        (stopped ??= (async () => {
          await transport.close();
          await running.close();
          await telemetry.shutdown();
        })()),
    };
  } catch (error) {
    await app?.close().catch(() => undefined);
    await telemetry.shutdown().catch(() => undefined);
    throw error;
  }
}

/**
 * Runs services until SIGINT/SIGTERM, then stops them cleanly. Prints configuration problems
 * (all of them) and returns a non-zero exit code instead of half-starting.
 */
export async function runUntilSignal(
  services: readonly ServiceDefinition[],
  env: Record<string, string | undefined>,
  banner: (url: string) => string = (url) =>
    `Palisade (${services.map((s) => s.context.context).join(', ')}) listening on ${url}`,
): Promise<number> {
  let running: RunningPalisade;
  try {
    running = await startPalisade({ services, env });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 78; // EX_CONFIG
    }
    throw error;
  }
  process.stdout.write(`${banner(running.url)}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.stdout.write('Stopping…\n');
  const force = () => process.exit(130);
  process.once('SIGINT', force);
  await running.stop();
  process.removeListener('SIGINT', force);
  return 0;
}

/** Entry point of a service's own main.ts: its environment is the process environment. */
export function runMain(services: readonly ServiceDefinition[]): void {
  runUntilSignal(services, process.env).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
