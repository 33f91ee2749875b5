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
    `, {"hash":"sha256:7d04da8974239db35c14b2aa87853e86f3e1daddfe319ec4b166134638d37a78"}) as unknown as TypedDocumentString<ShopCatalogQuery, ShopCatalogQueryVariables>;
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
    `, {"hash":"sha256:fe787bae04d70f8bf7fd28b5aa5caa48313bb275e20e2bc83649ff8b6cd37e72"}) as unknown as TypedDocumentString<ShopProductQuery, ShopProductQueryVariables>;
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
    `, {"hash":"sha256:73b0804bac2f81be1a27ca40f7282a915c749cd79c12e523b89a26c4a3ac6cac"}) as unknown as TypedDocumentString<ShopPlaceOrderMutation, ShopPlaceOrderMutationVariables>;
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
}`, {"hash":"sha256:609835da279ca940fc576178b05afbef329084fbd1c1aeb7f82d5df6043c8aaa"}) as unknown as TypedDocumentString<ShopMyOrdersQuery, ShopMyOrdersQueryVariables>;
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
}`, {"hash":"sha256:da3eb3b4a975dfc451f30ab08bd8c030b8d4cb8b7ca98b1e5e9649ac8828edd8"}) as unknown as TypedDocumentString<ShopWatchBackorderSubscription, ShopWatchBackorderSubscriptionVariables>;
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
}`, {"hash":"sha256:113bf9641e87c0b0d4851da4792f3a4b9d937f3386deda20b2e3fe4907a08da9"}) as unknown as TypedDocumentString<ShopCancelBackorderMutation, ShopCancelBackorderMutationVariables>;
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
    `, {"hash":"sha256:9e57913ef21d4bf56fa901b2e547249421ef26834cb363b4886c24381007be5c"}) as unknown as TypedDocumentString<StaffQueueQuery, StaffQueueQueryVariables>;
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
    `, {"hash":"sha256:5a015ec3b7acd38e81fa4309fcf5161ce1ce80f3d2f764d0eee7d2c29be37e0a"}) as unknown as TypedDocumentString<StaffReceiveStockMutation, StaffReceiveStockMutationVariables>;
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
    `, {"hash":"sha256:9d1b8dd1867eb952a0d201572116cfbfd7112e7aa7ec462bf3e6ac99168bf9a0"}) as unknown as TypedDocumentString<ShopWatchProductSubscription, ShopWatchProductSubscriptionVariables>;
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
}`, {"hash":"sha256:ac08af605c63adc10e4150e54248b6c614fd9df57a6c07c7e750f17afefc1523"}) as unknown as TypedDocumentString<ShopFeedQuery, ShopFeedQueryVariables>;
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
    `, {"hash":"sha256:96947ea3ef714cad5048ee56ea058b6a5224d70c8a1ea79525edda9e49f2e5e5"}) as unknown as TypedDocumentString<ShopMarkNotificationsReadMutation, ShopMarkNotificationsReadMutationVariables>;
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
}`, {"hash":"sha256:2c85c9e96a5d5a89f09e8958fdc53497c82f16a83e3f2d6adf15f33ddcaece03"}) as unknown as TypedDocumentString<ShopNotificationAddedSubscription, ShopNotificationAddedSubscriptionVariables>;