import type { HubConnection, SyncHub } from "../../../src/server/hub/hub.js";
import type { WebSocketLike } from "../../../src/sync/index.js";

/** One message or event in flight. */
interface InFlight {
  connection: SimConnection;
  toServer: boolean;
  text?: string;
  /** A control event for the client: the socket opened or closed. */
  event?: "open" | "close";
  closeCode?: number;
}

interface SimConnection {
  id: number;
  client: FakeWebSocket;
  server?: HubConnection;
  open: boolean;
}

/**
 * An in-memory network between FakeWebSockets and a SyncHub. Nothing moves until the simulation
 * delivers, drops or duplicates a message, so every interleaving is reproducible from a seed.
 */
export class SimNetwork {
  inFlight: InFlight[] = [];
  hub: SyncHub | undefined;
  #nextId = 1;
  readonly connections = new Set<SimConnection>();

  /** The constructor to hand NetworkSyncEngine as `WebSocket`. */
  readonly WebSocket = (() => {
    const network = this;
    return class extends FakeWebSocket {
      constructor(url: string) {
        super(url);
        network.#connect(this);
      }
    };
  })();

  #connect(client: FakeWebSocket): void {
    const connection: SimConnection = { id: this.#nextId++, client, open: true };
    client.connection = connection;
    client.network = this;
    this.connections.add(connection);
    if (!this.hub) {
      this.inFlight.push({ connection, toServer: false, event: "close", closeCode: 1006 });
      return;
    }
    const hubConnection = this.hub.open({
      send: (text) => {
        if (connection.open) this.inFlight.push({ connection, toServer: false, text });
      },
      close: (code) => this.closeConnection(connection, code),
    });
    connection.server = hubConnection;
    this.inFlight.push({ connection, toServer: false, event: "open" });
  }

  /** Closes a connection from the network's or the server's side: in-flight data is lost. */
  closeConnection(connection: SimConnection, code = 1006): void {
    if (!connection.open) return;
    connection.open = false;
    this.connections.delete(connection);
    this.inFlight = this.inFlight.filter((m) => m.connection !== connection);
    connection.server?.closed();
    this.inFlight.push({ connection, toServer: false, event: "close", closeCode: code });
  }

  /** Called by a client socket's send(). */
  sendFromClient(connection: SimConnection, text: string): void {
    if (connection.open) this.inFlight.push({ connection, toServer: true, text });
  }

  /** Called by a client socket's close(). */
  closeFromClient(connection: SimConnection): void {
    if (!connection.open) return;
    connection.open = false;
    this.connections.delete(connection);
    this.inFlight = this.inFlight.filter((m) => m.connection !== connection);
    connection.server?.closed();
  }

  /** Delivers the message at `index`; keeps a copy when `duplicate`. */
  deliver(index: number, duplicate = false): void {
    const message = this.inFlight[index];
    if (!message) return;
    if (!duplicate || message.event) this.inFlight.splice(index, 1);
    const { connection } = message;
    if (message.event === "open") {
      if (connection.open) connection.client.fireOpen();
      return;
    }
    if (message.event === "close") {
      connection.client.fireClose(message.closeCode ?? 1006);
      return;
    }
    if (!connection.open || message.text === undefined) return;
    if (process.env.SIM_TRACE)
      console.log(connection.id, message.toServer ? ">>" : "<<", message.text.slice(0, 300));
    if (message.toServer) connection.server?.receive(message.text);
    else connection.client.fireMessage(message.text);
  }

  /** Drops the message at `index` (control events are never dropped). */
  drop(index: number): void {
    const message = this.inFlight[index];
    if (message && !message.event) this.inFlight.splice(index, 1);
  }
}

/** A client socket on the simulated network (the browser WebSocket's shape). */
export class FakeWebSocket implements WebSocketLike {
  readyState = 0;
  connection!: SimConnection;
  network!: SimNetwork;
  onopen: ((event: any) => void) | null = null;
  onmessage: ((event: any) => void) | null = null;
  onclose: ((event: any) => void) | null = null;
  onerror: ((event: any) => void) | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error("not open");
    this.network.sendFromClient(this.connection, data);
  }

  close(): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.network.closeFromClient(this.connection);
  }

  fireOpen(): void {
    if (this.readyState !== 0) return;
    this.readyState = 1;
    this.onopen?.({});
  }

  fireMessage(text: string): void {
    if (this.readyState === 1) this.onmessage?.({ data: text });
  }

  fireClose(code: number): void {
    if (this.readyState === 3 && !this.onclose) return;
    this.readyState = 3;
    this.onclose?.({ code, reason: "" });
  }
}
