import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Inject } from '@nestjs/common';
import { RuleError } from '@palisade/domain';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { ROOT_LOGGER } from '../tokens';
import { FieldError, PROBLEM_CONTENT_TYPE, problemBody, ProblemBody, STATUS_CODES } from './problem';
import { InvalidInputError } from './validation';

const INTERNAL = 'Something went wrong on our side.';

/** A problem body from any error: RuleError (domains, validation, credentials), Nest's HttpException, or anything else (500). */
export function problemOf(exception: unknown): ProblemBody {
  if (exception instanceof RuleError) {
    const errors: readonly FieldError[] | undefined =
      exception instanceof InvalidInputError ? exception.errors : undefined;
    return problemBody(exception.status, exception.code, exception.message, errors);
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse() as string | { code?: unknown; message?: unknown };
    const code =
      (typeof response === 'object' && typeof response.code === 'string' ? response.code : undefined) ??
      STATUS_CODES[status] ??
      (status >= 500 ? 'internal_error' : 'bad_request');
    const message =
      status >= 500
        ? INTERNAL
        : typeof response === 'string'
          ? response
          : String(response.message ?? exception.message);
    return problemBody(status, code, message);
  }
  return problemBody(HttpStatus.INTERNAL_SERVER_ERROR, 'internal_error', INTERNAL);
}

/** Sends a problem body (application/problem+json). */
export function sendProblem(response: Response, body: ProblemBody): void {
  response.status(body.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}

/**
 * The one place errors become HTTP answers, for every service: a RuleError keeps its status,
 * code and sentence (and a validation error its failing fields); Nest's own exceptions (unknown
 * route, rate limit) get a stable code; anything else is logged and answered with a plain 500,
 * never a stack trace or an internal message. The body is RFC 9457 problem details (see
 * ProblemBody).
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(@Inject(ROOT_LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const response = host.switchToHttp().getResponse<Response>();
    const body = problemOf(exception);
    if (body.status >= 500 && !(exception instanceof RuleError))
      this.logger.error({ err: exception }, 'unhandled error in an HTTP request');
    if (!response.headersSent) sendProblem(response, body);
  }
}

const BODY_ERRORS: Record<string, { code: string; message: string }> = {
  'entity.parse.failed': { code: 'invalid_json', message: 'The request body is not valid JSON.' },
  'entity.too.large': {
    code: 'payload_too_large',
    message: 'The request body is larger than this endpoint accepts.',
  },
  'charset.unsupported': { code: 'unsupported_charset', message: 'Send the request body as UTF-8.' },
  'encoding.unsupported': {
    code: 'unsupported_encoding',
    message: 'The request body encoding is not supported.',
  },
  'request.aborted': { code: 'request_aborted', message: 'The request body was not sent completely.' },
};

/**
 * Express error middleware for the body parsers (mounted right after them): their errors
 * become problem answers here, before Nest turns them into plain 400s that echo parser internals.
 */
export function bodyParserErrorHandler(
  error: unknown,
  _req: Request,
  res: Response,
  next: NextFunction,
): void {
  const parserError = error as { status?: number; type?: string; expose?: boolean };
  if (typeof parserError?.status !== 'number' || !parserError.expose || parserError.status >= 500)
    return next(error);
  const known = BODY_ERRORS[parserError.type ?? ''] ?? {
    code: STATUS_CODES[parserError.status] ?? 'bad_request',
    message: 'The request body was refused.',
  };
  sendProblem(res, problemBody(parserError.status, known.code, known.message));
}

/**
 * A refusal at the edge of a service (a controller, a guard): `throw apiError(409, 'last_owner',
 * 'An organization keeps at least one owner.')`. Domains throw `RuleError` from @palisade/domain
 * directly; this is the same error.
 */
export function apiError(status: RuleError['status'], code: string, message: string): RuleError {
  return new RuleError(status, code, message);
}
