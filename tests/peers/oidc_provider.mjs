// A real OpenID provider for civic's tests (npm oidc-provider, development interactions).
//
//   OIDC_PORT=5123 OIDC_CLIENTS='[{"client_id": ...}]' node oidc_provider.mjs
//
// Any login name signs in: "alice" is alice@example.test, named "Alice", e-mail verified;
// a name starting "unverified" has an unverified e-mail. PKCE is required of every client.
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const clients = JSON.parse(process.env.OIDC_CLIENTS || '[]');
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  cookies: { keys: ['civic-tests-only-not-a-secret'] },
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  async findAccount(ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          email: `${sub}@example.test`,
          email_verified: !sub.startsWith('unverified'),
          name: sub.charAt(0).toUpperCase() + sub.slice(1),
        };
      },
    };
  },
});

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening at ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
