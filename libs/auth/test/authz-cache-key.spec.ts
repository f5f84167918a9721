import { authzResourceSchema, authzSubjectSchema } from '@palisade/contracts';
import type { AuthzCheck } from '@palisade/contracts';
import fc from 'fast-check';
import { authzCacheKey } from '../src';

const base: AuthzCheck = {
  subject: { kind: 'user', userId: 'u1' },
  action: 'workspace.open_shell',
  resource: { orgId: 'acme' },
};

/** Two checks that differ only in `field` of the resource (whatever the schema's fields are today). */
const differingIn = (field: string, a: string, b: string): [AuthzCheck, AuthzCheck] => [
  { ...base, resource: { ...base.resource, [field]: a } as AuthzCheck['resource'] },
  { ...base, resource: { ...base.resource, [field]: b } as AuthzCheck['resource'] },
];

describe('AuthzClient cache key', () => {
  it.each(Object.keys(authzResourceSchema.shape))(
    'tells apart two checks that differ only in the resource field %s',
    (field) => {
      const [one, other] = differingIn(field, 'value-1', 'value-2');
      expect(authzCacheKey(one)).not.toBe(authzCacheKey(other));
      // Present versus absent differs too.
      const { [field]: _dropped, ...without } = one.resource as Record<string, unknown>;
      expect(authzCacheKey(one)).not.toBe(
        authzCacheKey({ ...one, resource: without as AuthzCheck['resource'] }),
      );
    },
  );

  it.each(
    authzSubjectSchema.options.flatMap((o) => Object.keys(o.shape).map((f) => [o.shape.kind.value, f])),
  )('tells apart two %s subjects that differ only in %s', (kind, field) => {
    const subject = { kind, userId: 'u1', orgId: 'acme', access: 'read', linkId: 'l1' };
    const one = { ...base, subject: { ...subject, [field]: 'x' } } as AuthzCheck;
    const other = { ...base, subject: { ...subject, [field]: 'y' } } as AuthzCheck;
    expect(authzCacheKey(one)).not.toBe(authzCacheKey(other));
  });

  it('is the same for the same check, whatever the order of its fields and wherever undefined stands for absent', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 6 }),
        (extra) => {
          const resource = { orgId: 'acme', ...extra };
          const reversed = Object.fromEntries(Object.entries(resource).reverse());
          const withUndefined = { ...reversed, absent: undefined };
          const key = authzCacheKey({ ...base, resource } as AuthzCheck);
          expect(authzCacheKey({ ...base, resource: withUndefined } as unknown as AuthzCheck)).toBe(key);
        },
      ),
    );
  });

  it('never lets two different checks share a key (property)', () => {
    const value = fc.oneof(fc.constant(undefined), fc.string({ maxLength: 6 }));
    const check = fc.record({
      action: fc.constantFrom('org.read', 'audit.read'),
      workspaceId: value,
      elevationId: value,
      extra: value,
    });
    fc.assert(
      fc.property(check, check, (a, b) => {
        const toCheck = (c: typeof a) =>
          ({
            ...base,
            action: c.action,
            resource: {
              orgId: 'acme',
              workspaceId: c.workspaceId,
              elevationId: c.elevationId,
              extra: c.extra,
            },
          }) as AuthzCheck;
        const same =
          a.action === b.action &&
          a.workspaceId === b.workspaceId &&
          a.elevationId === b.elevationId &&
          a.extra === b.extra;
        expect(authzCacheKey(toCheck(a)) === authzCacheKey(toCheck(b))).toBe(same);
      }),
    );
  });
});
