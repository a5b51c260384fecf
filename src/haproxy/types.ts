// Vocabulary of HAProxy's runtime API as we use it: addresses of stats sockets, servers, admin states.

/** The admin states `set server B/S state …` accepts (HAProxy's own spelling). */
export type AdminState = 'maint' | 'drain' | 'ready';

export interface ServerRef {
  readonly backend: string;
  readonly server: string;
}

/** A stats socket: a unix path, or tcp://host:port. `label` is how logs and errors name it. */
export type SocketAddress =
  | { readonly kind: 'unix'; readonly path: string; readonly label: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly label: string };

export const serverKey = (ref: ServerRef): string => `${ref.backend}/${ref.server}`;
