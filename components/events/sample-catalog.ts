import type { EventDefinition } from "./catalog";

const money = {
  type: "object",
  required: ["amount", "currency"],
  additionalProperties: false,
  properties: {
    amount: { type: "string", pattern: "^-?[0-9]+(\\.[0-9]{1,4})?$", description: "decimal as a string, no float rounding" },
    currency: { type: "string", pattern: "^[A-Z]{3}$", description: "ISO 4217 code" },
  },
} as const;

/**
 * The reference architecture's events: the order service announces orders, payment reacts and announces the
 * result, customer announces registrations. The event processor validates all of them (it is the implicit
 * consumer of every raw topic).
 */
export const SAMPLE_EVENTS: ReadonlyArray<EventDefinition> = [
  {
    type: "order.created",
    version: 1,
    description: "A customer placed an order; payment starts charging it.",
    producers: ["order"],
    consumers: ["payment"],
    schema: {
      type: "object",
      required: ["orderId", "customerId", "items", "total", "createdAt"],
      additionalProperties: false,
      properties: {
        orderId: { type: "string", format: "uuid" },
        customerId: { type: "string", minLength: 1, maxLength: 64 },
        items: {
          type: "array",
          minItems: 1,
          maxItems: 500,
          items: {
            type: "object",
            required: ["sku", "quantity", "unitPrice"],
            additionalProperties: false,
            properties: {
              sku: { type: "string", pattern: "^[A-Z0-9-]{3,32}$" },
              quantity: { type: "integer", minimum: 1, maximum: 10000 },
              unitPrice: money,
            },
          },
        },
        total: money,
        createdAt: { type: "string", format: "date-time" },
      },
    },
    example: {
      orderId: "5b3c0a52-8f2e-4c1e-9b8a-2f6d1e7c9a10",
      customerId: "c-1042",
      items: [{ sku: "BOOK-0042", quantity: 2, unitPrice: { amount: "12.50", currency: "EUR" } }],
      total: { amount: "25.00", currency: "EUR" },
      createdAt: "2024-05-01T12:00:00Z",
    },
  },
  {
    type: "payment.completed",
    version: 1,
    description: "A payment for an order was captured or declined; the order service updates the order.",
    producers: ["payment"],
    consumers: ["order"],
    schema: {
      type: "object",
      required: ["paymentId", "orderId", "outcome", "amount"],
      additionalProperties: false,
      properties: {
        paymentId: { type: "string", minLength: 1, maxLength: 64 },
        orderId: { type: "string", format: "uuid" },
        outcome: { type: "string", enum: ["captured", "declined"] },
        amount: money,
        declineReason: { type: "string", maxLength: 200 },
      },
    },
    example: { paymentId: "pay-77", orderId: "5b3c0a52-8f2e-4c1e-9b8a-2f6d1e7c9a10", outcome: "captured", amount: { amount: "25.00", currency: "EUR" } },
  },
  {
    type: "customer.registered",
    version: 1,
    description: "A new customer account was created; the order service may start accepting orders for it.",
    producers: ["customer"],
    consumers: [{ app: "order", bulk: true }],
    schema: {
      type: "object",
      required: ["customerId", "email", "registeredAt"],
      additionalProperties: false,
      properties: {
        customerId: { type: "string", minLength: 1, maxLength: 64 },
        email: { type: "string", format: "email", maxLength: 254 },
        registeredAt: { type: "string", format: "date-time" },
        marketingOptIn: { type: "boolean" },
      },
    },
    example: { customerId: "c-1042", email: "ada@example.com", registeredAt: "2024-05-01T11:59:00Z" },
  },
];
