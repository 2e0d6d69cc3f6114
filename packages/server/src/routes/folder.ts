/** GET /v1/folder: the served folder's identity and who asks (any valid token, read-only included). */
import type { FastifyInstance } from 'fastify';
import { routes, type FolderIdentityResponse } from '@deltabox/protocol';
import { folderIdentity } from '../state/folder-identity.js';

export async function folderRoutes(app: FastifyInstance, { root, folderId }: { root: string; folderId: string }): Promise<void> {
  // Stat on every request: a folder replaced under a running server answers its new device and inode.
  app.get(routes.folder, async (request): Promise<FolderIdentityResponse> => {
    const auth = request.auth?.ok ? request.auth : undefined; // always set here: the route needs a token
    return { ...folderIdentity(root, folderId), device: auth?.name ?? '', readOnly: auth?.readOnly ?? true };
  });
}
