import { Inject, Injectable, OnModuleInit, Provider } from '@nestjs/common';
import { SERVICE_CONFIG, ServiceRuntime } from '@palisade/runtime';
import { LocalSecretBackend } from '../local-store/local.backend';
import { DEFAULT_MASTER_KEY_FILE, SecretsConfig } from '../secrets.config';
import type { SecretBackend } from './secret-backend';
import { SECRET_BACKEND } from './secret-backend.token';
import { SsmSecretBackend } from './ssm.backend';

/** The backend the configuration names. */
export function createSecretBackend(config: SecretsConfig): SecretBackend {
  if (config.SECRETS_BACKEND === 'ssm')
    return new SsmSecretBackend({
      region: config.SECRETS_SSM_REGION!,
      endpoint: config.SECRETS_SSM_ENDPOINT,
      prefix: config.SECRETS_SSM_PREFIX,
      kmsKey: config.SECRETS_SSM_KMS_KEY,
      maxAttempts: config.SECRETS_SSM_MAX_ATTEMPTS,
    });
  return new LocalSecretBackend(config.SECRETS_MASTER_KEY_FILE ?? DEFAULT_MASTER_KEY_FILE, { create: true });
}

/** Opens the local store's key file once the schema is migrated (the service refuses to start without a usable key). */
@Injectable()
class SecretBackendStarter implements OnModuleInit {
  constructor(
    private readonly runtime: ServiceRuntime,
    @Inject(SECRET_BACKEND) private readonly backend: SecretBackend,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.backend instanceof LocalSecretBackend) await this.backend.start(this.runtime.db);
  }
}

export function secretBackendProviders(): Provider[] {
  return [
    { provide: SECRET_BACKEND, inject: [SERVICE_CONFIG], useFactory: createSecretBackend },
    SecretBackendStarter,
  ];
}
