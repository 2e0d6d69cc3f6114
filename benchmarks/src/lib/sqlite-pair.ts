/**
 * The SQLite real pair: a database of customers and orders written from a seed, then a copy of it after one
 * scripted, seeded batch of updates (balances changed, notes rewritten, orders added and deleted), as an
 * application would leave it. Rollback journal (not WAL), closed before copying, so each file is the whole
 * database. The same better-sqlite3 (SQLite) version and seed give the same bytes.
 */
import Database from 'better-sqlite3';
import { copyFileSync, rmSync } from 'node:fs';
import { seededRandom } from './seeded-data.js';

/** Rows of the "before" database: about 36 MB with the indexes. */
const CUSTOMERS = 60_000;
const ORDERS = 240_000;
/** Start of the seeded timestamps (2026-01-01, seconds): no clock is read. */
const EPOCH = 1_767_225_600;

const FIRST = ['Ada', 'Alan', 'Barbara', 'Claude', 'Donald', 'Edsger', 'Frances', 'Grace', 'John', 'Ken', 'Leslie', 'Margaret', 'Niklaus', 'Radia', 'Tony', 'Yukihiro'];
const LAST = ['Lovelace', 'Turing', 'Liskov', 'Shannon', 'Knuth', 'Dijkstra', 'Allen', 'Hopper', 'Backus', 'Thompson', 'Lamport', 'Hamilton', 'Wirth', 'Perlman', 'Hoare', 'Matsumoto'];
const CITIES = ['Lisbon', 'Oslo', 'Nairobi', 'Osaka', 'Lima', 'Quebec', 'Tartu', 'Perth', 'Austin', 'Dakar', 'Pune', 'Cork'];
const ITEMS = ['cable', 'adapter', 'keyboard', 'monitor', 'charger', 'headset', 'webcam', 'dock', 'mouse', 'drive', 'router', 'lamp'];
const WORDS = ['please', 'deliver', 'before', 'noon', 'leave', 'at', 'the', 'door', 'gift', 'wrap', 'call', 'on', 'arrival', 'fragile', 'urgent', 'back', 'office', 'second', 'floor', 'ring', 'twice'];

/** What the update batch did, for the pair's description. */
export interface SqliteBatch {
  balancesUpdated: number;
  notesRewritten: number;
  ordersInserted: number;
  ordersDeleted: number;
}

/** Writes the "before" database to `basisPath` and the "after" one to `targetPath`. */
export function buildSqlitePair(basisPath: string, targetPath: string, seed: string): SqliteBatch {
  const random = seededRandom(`${seed}:rows`);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const note = (): string => Array.from({ length: 3 + Math.floor(random() * 12) }, () => pick(WORDS)).join(' ');
  rmSync(basisPath, { force: true });
  const db = new Database(basisPath);
  try {
    db.pragma('journal_mode = DELETE');
    db.exec(`
      CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, city TEXT NOT NULL,
        balance_cents INTEGER NOT NULL, updated_at INTEGER NOT NULL);
      CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id),
        item TEXT NOT NULL, quantity INTEGER NOT NULL, price_cents INTEGER NOT NULL, note TEXT, created_at INTEGER NOT NULL);
      CREATE INDEX customers_by_email ON customers(email);
      CREATE INDEX orders_by_customer ON orders(customer_id, created_at);`);
    const addCustomer = db.prepare('INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)');
    const addOrder = db.prepare('INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?)');
    db.transaction(() => {
      for (let id = 1; id <= CUSTOMERS; id++) {
        const name = `${pick(FIRST)} ${pick(LAST)}`;
        const email = `${name.toLowerCase().replace(' ', '.')}.${id}@example.org`;
        addCustomer.run(id, name, email, pick(CITIES), Math.floor(random() * 1e7), EPOCH + Math.floor(random() * 1e7));
      }
      for (let id = 1; id <= ORDERS; id++) {
        addOrder.run(id, 1 + Math.floor(random() * CUSTOMERS), pick(ITEMS), 1 + Math.floor(random() * 9), Math.floor(random() * 1e5), random() < 0.6 ? note() : null, EPOCH + Math.floor(random() * 1e7));
      }
    })();
  } finally {
    db.close();
  }
  copyFileSync(basisPath, targetPath);
  return applyBatch(targetPath, seed);
}

/** The scripted batch: one transaction, as an application's day of changes. */
function applyBatch(path: string, seed: string): SqliteBatch {
  const random = seededRandom(`${seed}:batch`);
  const batch: SqliteBatch = { balancesUpdated: 1_200, notesRewritten: 2_400, ordersInserted: 3_000, ordersDeleted: 1_500 };
  const db = new Database(path);
  try {
    db.pragma('journal_mode = DELETE');
    const setBalance = db.prepare('UPDATE customers SET balance_cents = balance_cents + ?, updated_at = ? WHERE id = ?');
    const setNote = db.prepare('UPDATE orders SET note = ? WHERE id = ?');
    const addOrder = db.prepare('INSERT INTO orders (customer_id, item, quantity, price_cents, note, created_at) VALUES (?, ?, ?, ?, ?, ?)');
    const deleteOrder = db.prepare('DELETE FROM orders WHERE id = ?');
    const later = EPOCH + 2e7;
    db.transaction(() => {
      for (let i = 0; i < batch.balancesUpdated; i++) setBalance.run(Math.floor(random() * 2e4) - 1e4, later + i, 1 + Math.floor(random() * CUSTOMERS));
      for (let i = 0; i < batch.notesRewritten; i++) setNote.run(`updated ${i}: ${WORDS[i % WORDS.length]} ${Math.floor(random() * 1e6)}`, 1 + Math.floor(random() * ORDERS));
      for (let i = 0; i < batch.ordersInserted; i++) addOrder.run(1 + Math.floor(random() * CUSTOMERS), ITEMS[i % ITEMS.length], 1 + (i % 9), Math.floor(random() * 1e5), null, later + i);
      for (let i = 0; i < batch.ordersDeleted; i++) deleteOrder.run(1 + Math.floor(random() * ORDERS));
    })();
  } finally {
    db.close();
  }
  return batch;
}
