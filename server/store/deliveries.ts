// Webhook deliveries already seen: a forge re-sending a delivery (same X-GitHub-Delivery)
// must start nothing twice.
import type { RepoContext } from './context.ts';
import type { WebhookDelivery } from './schema.ts';

export interface DeliveryRepo {
  /**
   * Records the delivery; false when it was already recorded, and the caller then does nothing.
   * Atomic: of two concurrent claims of one id exactly one gets true.
   */
  claim(deliveryId: string, projectId: string, event: string): Promise<boolean>;
  /** Notes which execution the delivery started. */
  attach(deliveryId: string, executionId: string): Promise<void>;
  /** Gives a claim back when nothing could be started, so the forge's redelivery is not ignored. */
  release(deliveryId: string): Promise<void>;
  get(deliveryId: string): Promise<WebhookDelivery | undefined>;
  /** Forgets deliveries received before `before` (forges give up re-sending within hours). */
  deleteOlderThan(before: Date): Promise<number>;
}

export function deliveryRepo({ db, now }: RepoContext): DeliveryRepo {
  return {
    async claim(deliveryId, projectId, event) {
      const result = await db
        .insertInto('webhook_deliveries')
        .values({
          delivery_id: deliveryId,
          project_id: projectId,
          event,
          received_at: now(),
          execution_id: null,
        })
        .onConflict((oc) => oc.column('delivery_id').doNothing())
        .executeTakeFirst();
      return result.numInsertedOrUpdatedRows === 1n;
    },

    async attach(deliveryId, executionId) {
      await db
        .updateTable('webhook_deliveries')
        .set({ execution_id: executionId })
        .where('delivery_id', '=', deliveryId)
        .execute();
    },

    async release(deliveryId) {
      await db
        .deleteFrom('webhook_deliveries')
        .where('delivery_id', '=', deliveryId)
        .where('execution_id', 'is', null)
        .execute();
    },

    get: (deliveryId) =>
      db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('delivery_id', '=', deliveryId)
        .executeTakeFirst(),

    async deleteOlderThan(before) {
      const result = await db
        .deleteFrom('webhook_deliveries')
        .where('received_at', '<', before.toISOString())
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
