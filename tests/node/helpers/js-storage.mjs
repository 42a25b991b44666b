// A StorageAdapter written in plain JavaScript, as a user would write one for
// a database the package has no adapter for. It keeps records in Maps and
// returns copies, so the code under test cannot change stored state by
// mutating a returned object.

function copy(value) {
  return value === null || value === undefined ? null : structuredClone(value);
}

/** Creates an in-memory StorageAdapter that implements every method in plain JavaScript. */
export function jsStorage() {
  const clients = new Map();
  const signingKeys = new Map();
  const revokedTokens = new Map();

  const requireClient = (clientId) => {
    const client = clients.get(clientId);
    if (!client) throw new Error(`jsStorage: client "${clientId}" not found`);
    return client;
  };

  return {
    async findClient(clientId) {
      return copy(clients.get(clientId));
    },
    async createClient(client) {
      if (clients.has(client.clientId)) throw new Error(`jsStorage: client "${client.clientId}" already exists`);
      clients.set(client.clientId, copy(client));
    },
    async deleteClient(clientId) {
      clients.delete(clientId);
    },
    async listClients() {
      return [...clients.values()].map(copy);
    },
    async updateClient(clientId, updates) {
      Object.assign(requireClient(clientId), copy(updates));
    },
    async touchClient(clientId, lastSeenAt) {
      requireClient(clientId).lastSeenAt = copy(lastSeenAt);
    },
    async setClientActive(clientId, active) {
      requireClient(clientId).active = active;
    },
    async setTokensInvalidBefore(clientId, at) {
      requireClient(clientId).tokensInvalidBefore = copy(at);
    },
    async getSigningKeys() {
      return [...signingKeys.values()].map(copy);
    },
    async addSigningKey(key) {
      signingKeys.set(key.keyId, copy(key));
    },
    async setSigningKeyNotAfter(keyId, notAfter) {
      const key = signingKeys.get(keyId);
      if (!key) throw new Error(`jsStorage: signing key "${keyId}" not found`);
      key.notAfter = copy(notAfter);
    },
    async findRevokedToken(jti) {
      return copy(revokedTokens.get(jti));
    },
    async revokeToken(token) {
      revokedTokens.set(token.jti, copy(token));
    },
  };
}
