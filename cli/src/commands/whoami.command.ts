import { apiFailure, loadCredentials, saveCredentials, StoredCredentials } from './login.command';

/** The bearer token to send, refreshing a session's access token when it (nearly) expired. */
export async function currentBearer(credentials: StoredCredentials): Promise<string> {
  if (credentials.kind === 'api_token') return credentials.apiToken!;
  if ((credentials.accessExpiresAt ?? 0) - Date.now() > 30_000) return credentials.accessToken!;
  const response = await fetch(`${credentials.url}/v1/auth/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refreshToken: credentials.refreshToken }),
  });
  if (!response.ok) throw await apiFailure(response, 'refreshing the session (run "palisade login" again)');
  const pair = (await response.json()) as { accessToken: string; refreshToken: string; expiresIn: number };
  saveCredentials({
    ...credentials,
    accessToken: pair.accessToken,
    refreshToken: pair.refreshToken,
    accessExpiresAt: Date.now() + pair.expiresIn * 1000,
  });
  return pair.accessToken;
}

/** `palisade whoami`: who the stored credentials belong to. */
export async function whoamiCommand(): Promise<number> {
  const credentials = loadCredentials();
  const response = await fetch(`${credentials.url}/v1/auth/whoami`, {
    headers: { authorization: `Bearer ${await currentBearer(credentials)}` },
  });
  if (!response.ok) throw await apiFailure(response, 'whoami');
  process.stdout.write(`${JSON.stringify(await response.json())}\n`);
  return 0;
}
