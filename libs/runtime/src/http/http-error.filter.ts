import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Inject } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { ROOT_LOGGER } from '../tokens';

/** The body of every error Palisade's HTTP API returns. */
export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}

const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'rate_limited',
};

/**
 * Every error leaves as `{ error: { code, message } }`: a stable machine-readable code and a
 * sentence a person can act on. Unexpected errors are logged and answered with a plain 500,
 * never a stack trace or an internal message.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(@Inject(ROOT_LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const response = host.switchToHttp().getResponse<Response>();
    const { status, body } = this.describe(exception);
    if (status >= 500) this.logger.error({ err: exception }, 'unhandled error in an HTTP request');
    if (!response.headersSent) response.status(status).json(body);
  }

  private describe(exception: unknown): { status: number; body: ApiErrorBody } {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      if (
        typeof response === 'object' &&
        response &&
        'error' in response &&
        typeof (response as ApiErrorBody).error === 'object'
      ) {
        return { status, body: response as ApiErrorBody };
      }
      const code =
        (typeof response === 'object' && response && typeof (response as { code?: unknown }).code === 'string'
          ? (response as { code: string }).code
          : undefined) ??
        STATUS_CODES[status] ??
        (status >= 500 ? 'internal_error' : 'bad_request');
      const message =
        status >= 500
          ? 'Something went wrong on our side.'
          : typeof response === 'string'
            ? response
            : String((response as { message?: unknown }).message ?? exception.message);
      return { status, body: { error: { code, message } } };
    }
    return {
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      body: { error: { code: 'internal_error', message: 'Something went wrong on our side.' } },
    };
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
 * become API errors here, before Nest turns them into plain 400s that echo parser internals.
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
  res.status(parserError.status).json({ error: known } satisfies ApiErrorBody);
}

/** Throws a 4xx with a stable code: `throw apiError(409, 'last_owner', 'An organization keeps at least one owner.')`. */
export function apiError(status: number, code: string, message: string, details?: unknown): HttpException {
  return new HttpException(
    { error: { code, message, ...(details === undefined ? {} : { details }) } },
    status,
  );
}
