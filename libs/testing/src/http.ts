/** What an API answered: its status, its JSON body (`{}` when empty) and its headers. */
export interface ApiAnswer<B> {
  status: number;
  body: B;
  headers: Headers;
}

/** One JSON request to an API under test, with a bearer token when given. */
export async function apiRequest<B = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string } = {},
): Promise<ApiAnswer<B>> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as B, headers: response.headers };
}
