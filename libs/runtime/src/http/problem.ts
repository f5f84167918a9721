/** Where a failing field is: the JSON body, the query string or the path (OpenAPI's names). */
export type FieldLocation = 'body' | 'query' | 'path';

/** One failing field of a request: where it is, a JSON pointer to it, and what is allowed there. */
export interface FieldError {
  in: FieldLocation;
  /** RFC 6901 pointer into that part of the request, as a fragment: `#/members/0/role`, `#/orgId`. */
  pointer: string;
  /** What is wrong and what is allowed, e.g. `must be one of: read, write`. */
  detail: string;
}

/**
 * The body of every error Palisade's HTTP API returns: RFC 9457 problem details
 * (`application/problem+json`) with Palisade's `code` and, for bad input, every failing field
 * in `errors`. `error` repeats code and message in the shape clients read before problem
 * details existed; it stays as long as the API is v1.
 */
export interface ProblemBody {
  /** `urn:palisade:error:<code>`: a stable identifier of the kind of problem. */
  type: string;
  /** The HTTP status text, e.g. `Not Found`. */
  title: string;
  status: number;
  /** A sentence a person can act on (never the input, a secret or a stack trace). */
  detail: string;
  /** The stable machine-readable code. */
  code: string;
  /** Every failing field of the request (validation errors only). */
  errors?: FieldError[];
  error: { code: string; message: string };
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The default code of a status when nothing more specific is known. */
export const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'rate_limited',
};

export function problemBody(
  status: number,
  code: string,
  message: string,
  errors?: readonly FieldError[],
): ProblemBody {
  return {
    type: `urn:palisade:error:${code}`,
    title: TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error'),
    status,
    detail: message,
    code,
    ...(errors && errors.length > 0 ? { errors: [...errors] } : {}),
    error: { code, message },
  };
}
