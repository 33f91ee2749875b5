/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type AvailabilityStatus =
  | 'BACKORDER'
  | 'IN_STOCK'
  | 'LOW_STOCK'
  | 'OUT_OF_STOCK';

export type BackorderStatus =
  | 'ALLOCATED'
  | 'CANCELLED'
  | 'PARTIALLY_ALLOCATED'
  | 'SHIPPED'
  | 'WAITING';

export type MarkNotificationsReadInput = {
  /** All of yours. */
  all?: boolean | null | undefined;
  /** These notifications (up to 100). */
  ids?: Array<string | number> | null | undefined;
};

/** What happened: the public event a notification shows (see the README, "Events"). */
export type NotificationType =
  | 'ALERT_PRODUCT_AVAILABLE'
  | 'BACKORDER_ALLOCATED'
  | 'BACKORDER_CANCELLED'
  | 'BACKORDER_CREATED'
  | 'BACKORDER_ETA_MOVED'
  | 'BACKORDER_PARTIALLY_ALLOCATED'
  | 'BACKORDER_SHIPPED'
  | 'ORDER_SHIPPED';

export type OrderLineInput = {
  productId: string | number;
  quantity: number;
};

/** AWAITING_STOCK while any unit waits in a queue; else READY while allocated units remain to ship; else SHIPPED if anything shipped, CANCELLED if nothing did. */
export type OrderStatus =
  | 'AWAITING_STOCK'
  | 'CANCELLED'
  | 'READY'
  | 'SHIPPED';

export type PlaceOrderInput = {
  acceptBackorder?: boolean | null | undefined;
  /** Chosen by the client per checkout; a retry with the same key and input returns the same order. */
  idempotencyKey: string;
  lines: Array<OrderLineInput>;
};

export type ReceiveStockInput = {
  /** Count the units against this inbound shipment. */
  inboundId?: string | number | null | undefined;
  productId: string | number;
  quantity: number;
};

export type ShopCatalogQueryVariables = Exact<{
  first: number;
}>;


export type ShopCatalogQuery = { products: { edges: Array<{ node: { id: string, sku: string, name: string, availability: { status: AvailabilityStatus, quantityAvailable: number, backorderable: boolean, nextRestockAt: string | null, estimatedAvailableAt: string | null } } }> } };

export type ShopProductQueryVariables = Exact<{
  sku: string;
  quantity: number;
}>;


export type ShopProductQuery = { product: { id: string, sku: string, name: string, customerLimit: number | null, availability: { status: AvailabilityStatus, quantityAvailable: number, backorderable: boolean, queueLength: number, unitsOnBackorder: number, remainingCapacity: number | null, estimatedAvailableAt: string | null } } | null };

export type ShopPlaceOrderMutationVariables = Exact<{
  input: PlaceOrderInput;
}>;


export type ShopPlaceOrderMutation = { placeOrder:
    | { __typename: 'BackorderLimitError', message: string }
    | { __typename: 'BackorderNotAllowedError', message: string }
    | { __typename: 'CustomerLimitError', message: string }
    | { __typename: 'IdempotencyConflictError', message: string }
    | { __typename: 'InsufficientStockError', message: string }
    | { __typename: 'NotFoundError', message: string }
    | { __typename: 'PlaceOrderSuccess', order: { id: string, status: OrderStatus, lines: Array<{ quantity: number, quantityAllocated: number, backorder: { id: string, queuePosition: number | null, unitsAhead: number | null, estimatedAvailableAt: string | null } | null }> } }
    | { __typename: 'TotalLimitError', message: string }
   };

export type ShopMyOrdersQueryVariables = Exact<{
  last: number;
}>;


export type ShopMyOrdersQuery = { viewer: { customerId: string, orders: { edges: Array<{ node: { id: string, status: OrderStatus, createdAt: string, lines: Array<{ quantity: number, quantityAllocated: number, product: { sku: string, name: string }, backorder: { id: string, status: BackorderStatus, quantity: number, quantityAllocated: number, queuePosition: number | null, unitsAhead: number | null, estimatedAvailableAt: string | null } | null }> } }> } } | null };

export type ShopBackorderFragment = { id: string, status: BackorderStatus, quantity: number, quantityAllocated: number, queuePosition: number | null, unitsAhead: number | null, estimatedAvailableAt: string | null };

export type ShopWatchBackorderSubscriptionVariables = Exact<{
  id: string | number;
}>;


export type ShopWatchBackorderSubscription = { backorderUpdated: { id: string, status: BackorderStatus, quantity: number, quantityAllocated: number, queuePosition: number | null, unitsAhead: number | null, estimatedAvailableAt: string | null } };

export type ShopCancelBackorderMutationVariables = Exact<{
  id: string | number;
}>;


export type ShopCancelBackorderMutation = { cancelBackorder:
    | { __typename: 'BackorderNotCancellableError', message: string }
    | { __typename: 'CancelBackorderSuccess', backorder: { id: string, status: BackorderStatus, quantity: number, quantityAllocated: number, queuePosition: number | null, unitsAhead: number | null, estimatedAvailableAt: string | null } }
    | { __typename: 'NotFoundError', message: string }
   };

export type StaffQueueQueryVariables = Exact<{
  sku: string;
  first: number;
}>;


export type StaffQueueQuery = { product: { id: string, sku: string, name: string, stock: { onHand: number, allocated: number, available: number }, inbound: Array<{ id: string, quantity: number, expectedAt: string }>, backorders: { totalCount: number, edges: Array<{ node: { id: string, customerId: string, status: BackorderStatus, quantity: number, quantityAllocated: number, queuePosition: number | null } }> } } | null };

export type StaffReceiveStockMutationVariables = Exact<{
  input: ReceiveStockInput;
}>;


export type StaffReceiveStockMutation = { receiveStock:
    | { __typename: 'InboundClosedError', message: string }
    | { __typename: 'InboundProductMismatchError', message: string }
    | { __typename: 'NotFoundError', message: string }
    | { __typename: 'ReceiveStockSuccess', allocations: Array<{ quantity: number }> }
    | { __typename: 'TotalLimitError', message: string }
   };

export type ShopWatchProductSubscriptionVariables = Exact<{
  productId: string | number;
}>;


export type ShopWatchProductSubscription = { productAvailabilityChanged: { id: string, availability: { status: AvailabilityStatus, quantityAvailable: number, queueLength: number, unitsOnBackorder: number } } };

export type ShopNotificationFragment = { id: string, type: NotificationType, message: string, createdAt: string, read: boolean };

export type ShopFeedQueryVariables = Exact<{
  first: number;
}>;


export type ShopFeedQuery = { viewer: { notifications: { unreadCount: number, totalCount: number, edges: Array<{ node: { id: string, type: NotificationType, message: string, createdAt: string, read: boolean } }> } } | null };

export type ShopMarkNotificationsReadMutationVariables = Exact<{
  input: MarkNotificationsReadInput;
}>;


export type ShopMarkNotificationsReadMutation = { markNotificationsRead: { __typename: 'MarkNotificationsReadSuccess', marked: number, unreadCount: number } };

export type ShopNotificationAddedSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type ShopNotificationAddedSubscription = { notificationAdded: { id: string, type: NotificationType, message: string, createdAt: string, read: boolean } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const ShopBackorderFragmentDoc = new TypedDocumentString(`
    fragment ShopBackorder on Backorder {
  id
  status
  quantity
  quantityAllocated
  queuePosition
  unitsAhead
  estimatedAvailableAt
}
    `, {"fragmentName":"ShopBackorder"}) as unknown as TypedDocumentString<ShopBackorderFragment, unknown>;
export const ShopNotificationFragmentDoc = new TypedDocumentString(`
    fragment ShopNotification on Notification {
  id
  type
  message
  createdAt
  read
}
    `, {"fragmentName":"ShopNotification"}) as unknown as TypedDocumentString<ShopNotificationFragment, unknown>;
export const ShopCatalogDocument = new TypedDocumentString(`
    query ShopCatalog($first: Int!) {
  products(first: $first) {
    edges {
      node {
        id
        sku
        name
        availability {
          status
          quantityAvailable
          backorderable
          nextRestockAt
          estimatedAvailableAt(quantity: 1)
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ShopCatalogQuery, ShopCatalogQueryVariables>;
export const ShopProductDocument = new TypedDocumentString(`
    query ShopProduct($sku: String!, $quantity: Int!) {
  product(sku: $sku) {
    id
    sku
    name
    customerLimit
    availability {
      status
      quantityAvailable
      backorderable
      queueLength
      unitsOnBackorder
      remainingCapacity
      estimatedAvailableAt(quantity: $quantity)
    }
  }
}
    `) as unknown as TypedDocumentString<ShopProductQuery, ShopProductQueryVariables>;
export const ShopPlaceOrderDocument = new TypedDocumentString(`
    mutation ShopPlaceOrder($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    __typename
    ... on PlaceOrderSuccess {
      order {
        id
        status
        lines {
          quantity
          quantityAllocated
          backorder {
            id
            queuePosition
            unitsAhead
            estimatedAvailableAt
          }
        }
      }
    }
    ... on Error {
      message
    }
  }
}
    `) as unknown as TypedDocumentString<ShopPlaceOrderMutation, ShopPlaceOrderMutationVariables>;
export const ShopMyOrdersDocument = new TypedDocumentString(`
    query ShopMyOrders($last: Int!) {
  viewer {
    customerId
    orders(last: $last) {
      edges {
        node {
          id
          status
          createdAt
          lines {
            quantity
            quantityAllocated
            product {
              sku
              name
            }
            backorder {
              ...ShopBackorder
            }
          }
        }
      }
    }
  }
}
    fragment ShopBackorder on Backorder {
  id
  status
  quantity
  quantityAllocated
  queuePosition
  unitsAhead
  estimatedAvailableAt
}`) as unknown as TypedDocumentString<ShopMyOrdersQuery, ShopMyOrdersQueryVariables>;
export const ShopWatchBackorderDocument = new TypedDocumentString(`
    subscription ShopWatchBackorder($id: ID!) {
  backorderUpdated(id: $id) {
    ...ShopBackorder
  }
}
    fragment ShopBackorder on Backorder {
  id
  status
  quantity
  quantityAllocated
  queuePosition
  unitsAhead
  estimatedAvailableAt
}`) as unknown as TypedDocumentString<ShopWatchBackorderSubscription, ShopWatchBackorderSubscriptionVariables>;
export const ShopCancelBackorderDocument = new TypedDocumentString(`
    mutation ShopCancelBackorder($id: ID!) {
  cancelBackorder(id: $id) {
    __typename
    ... on CancelBackorderSuccess {
      backorder {
        ...ShopBackorder
      }
    }
    ... on Error {
      message
    }
  }
}
    fragment ShopBackorder on Backorder {
  id
  status
  quantity
  quantityAllocated
  queuePosition
  unitsAhead
  estimatedAvailableAt
}`) as unknown as TypedDocumentString<ShopCancelBackorderMutation, ShopCancelBackorderMutationVariables>;
export const StaffQueueDocument = new TypedDocumentString(`
    query StaffQueue($sku: String!, $first: Int!) {
  product(sku: $sku) {
    id
    sku
    name
    stock {
      onHand
      allocated
      available
    }
    inbound {
      id
      quantity
      expectedAt
    }
    backorders(first: $first, status: [WAITING, PARTIALLY_ALLOCATED]) {
      totalCount
      edges {
        node {
          id
          customerId
          status
          quantity
          quantityAllocated
          queuePosition
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<StaffQueueQuery, StaffQueueQueryVariables>;
export const StaffReceiveStockDocument = new TypedDocumentString(`
    mutation StaffReceiveStock($input: ReceiveStockInput!) {
  receiveStock(input: $input) {
    __typename
    ... on ReceiveStockSuccess {
      allocations {
        quantity
      }
    }
    ... on Error {
      message
    }
  }
}
    `) as unknown as TypedDocumentString<StaffReceiveStockMutation, StaffReceiveStockMutationVariables>;
export const ShopWatchProductDocument = new TypedDocumentString(`
    subscription ShopWatchProduct($productId: ID!) {
  productAvailabilityChanged(productId: $productId) {
    id
    availability {
      status
      quantityAvailable
      queueLength
      unitsOnBackorder
    }
  }
}
    `) as unknown as TypedDocumentString<ShopWatchProductSubscription, ShopWatchProductSubscriptionVariables>;
export const ShopFeedDocument = new TypedDocumentString(`
    query ShopFeed($first: Int!) {
  viewer {
    notifications(first: $first) {
      unreadCount
      totalCount
      edges {
        node {
          ...ShopNotification
        }
      }
    }
  }
}
    fragment ShopNotification on Notification {
  id
  type
  message
  createdAt
  read
}`) as unknown as TypedDocumentString<ShopFeedQuery, ShopFeedQueryVariables>;
export const ShopMarkNotificationsReadDocument = new TypedDocumentString(`
    mutation ShopMarkNotificationsRead($input: MarkNotificationsReadInput!) {
  markNotificationsRead(input: $input) {
    __typename
    ... on MarkNotificationsReadSuccess {
      marked
      unreadCount
    }
  }
}
    `) as unknown as TypedDocumentString<ShopMarkNotificationsReadMutation, ShopMarkNotificationsReadMutationVariables>;
export const ShopNotificationAddedDocument = new TypedDocumentString(`
    subscription ShopNotificationAdded {
  notificationAdded {
    ...ShopNotification
  }
}
    fragment ShopNotification on Notification {
  id
  type
  message
  createdAt
  read
}`) as unknown as TypedDocumentString<ShopNotificationAddedSubscription, ShopNotificationAddedSubscriptionVariables>;