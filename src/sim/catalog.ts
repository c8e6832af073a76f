import { stringify } from 'yaml';

/**
 * The operations the simulated company exposes, and which data categories each one returns.
 * This is both what the generator calls and what it writes as catalog.yaml, so ground truth
 * and the catalog Vigil reads can never disagree.
 */
export type Category =
  | 'name'
  | 'phone'
  | 'email'
  | 'address'
  | 'door_code'
  | 'order_history'
  | 'payment'
  | 'credential';

export const CATEGORY_LABELS: Record<Category, string> = {
  name: 'Name',
  phone: 'Phone number',
  email: 'Email address',
  address: 'Shipping address',
  door_code: 'Shared-entrance door code',
  order_history: 'Order history',
  payment: 'Payment details',
  credential: 'Login credentials',
};

export interface Operation {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path template; `{id}` is the customer, other placeholders are opaque ids. */
  path: string;
  /** OCSF activity_id: 1 Create, 2 Read, 3 Update, 4 Delete, 99 Other. */
  activity: 1 | 2 | 3 | 4 | 99;
  returns: readonly Category[];
  /** Typical response size in bytes, before per-subject growth. */
  bytes: number;
}

function op(
  name: string,
  method: Operation['method'],
  path: string,
  activity: Operation['activity'],
  returns: readonly Category[],
  bytes: number,
): Operation {
  return { name, method, path, activity, returns, bytes };
}

export const OPERATIONS = {
  // Customer-facing pages ("Edit My Info", the delivery-address list, recent orders…).
  GetProfile: op('GetProfile', 'GET', '/v1/customers/{id}/profile', 2, ['name', 'email', 'phone'], 900),
  UpdateProfile: op('UpdateProfile', 'PUT', '/v1/customers/{id}/profile', 3, ['name', 'email', 'phone'], 950),
  GetShippingAddresses: op(
    'GetShippingAddresses',
    'GET',
    '/v1/customers/{id}/addresses',
    2,
    ['name', 'phone', 'address'],
    700,
  ),
  GetDeliveryInstructions: op(
    'GetDeliveryInstructions',
    'GET',
    '/v1/customers/{id}/addresses/{addressId}/instructions',
    2,
    ['name', 'address', 'door_code'],
    400,
  ),
  GetRecentOrders: op(
    'GetRecentOrders',
    'GET',
    '/v1/customers/{id}/orders',
    2,
    ['name', 'order_history'],
    4200,
  ),
  GetOrder: op('GetOrder', 'GET', '/v1/orders/{orderId}', 2, ['name', 'address', 'order_history'], 2600),
  GetPaymentMethods: op(
    'GetPaymentMethods',
    'GET',
    '/v1/customers/{id}/payment-methods',
    2,
    ['payment'],
    600,
  ),
  ChangePassword: op('ChangePassword', 'POST', '/v1/customers/{id}/password', 3, [], 120),
  PlaceOrder: op('PlaceOrder', 'POST', '/v1/orders', 1, ['order_history'], 1500),
  SearchProducts: op('SearchProducts', 'GET', '/v1/products', 2, [], 18000),
  GetProduct: op('GetProduct', 'GET', '/v1/products/{productId}', 2, [], 9000),
  GetCart: op('GetCart', 'GET', '/v1/carts/{id}', 2, [], 3000),
  AddToCart: op('AddToCart', 'POST', '/v1/carts/{id}/items', 1, [], 800),
  // Back office, used by staff with employee tokens.
  SearchCustomers: op('SearchCustomers', 'GET', '/internal/customers', 2, ['name', 'email', 'phone'], 1500),
  GetCustomerProfile: op(
    'GetCustomerProfile',
    'GET',
    '/internal/customers/{id}',
    2,
    ['name', 'email', 'phone', 'address'],
    1800,
  ),
  GetCustomerOrders: op(
    'GetCustomerOrders',
    'GET',
    '/internal/customers/{id}/orders',
    2,
    ['name', 'order_history'],
    5200,
  ),
  GetCustomerAddresses: op(
    'GetCustomerAddresses',
    'GET',
    '/internal/customers/{id}/addresses',
    2,
    ['name', 'phone', 'address', 'door_code'],
    900,
  ),
  AddCustomerNote: op('AddCustomerNote', 'POST', '/internal/customers/{id}/notes', 1, [], 200),
  ExportCustomerSegment: op(
    'ExportCustomerSegment',
    'GET',
    '/internal/marketing/segments/{segmentId}/members',
    2,
    ['name', 'email'],
    300,
  ),
  GetSalesReport: op('GetSalesReport', 'GET', '/internal/reports/sales', 2, [], 40000),
  GetServiceHealth: op('GetServiceHealth', 'GET', '/internal/health', 2, [], 300),
  ListDeployments: op('ListDeployments', 'GET', '/internal/deployments', 2, [], 6000),
  QueryMetrics: op('QueryMetrics', 'POST', '/internal/metrics/query', 99, [], 12000),
  // Service-to-service calls with legitimately huge fan-out.
  GetShippingLabel: op(
    'GetShippingLabel',
    'GET',
    '/internal/shipping/labels/{orderId}',
    2,
    ['name', 'phone', 'address', 'door_code'],
    1100,
  ),
  ExportMarketingAudience: op(
    'ExportMarketingAudience',
    'GET',
    '/internal/marketing/audience',
    2,
    ['name', 'email'],
    300,
  ),
  ScoreTransaction: op(
    'ScoreTransaction',
    'POST',
    '/internal/fraud/score',
    99,
    ['name', 'payment', 'order_history'],
    500,
  ),
  SendOrderNotification: op(
    'SendOrderNotification',
    'POST',
    '/internal/notifications/order',
    1,
    ['name', 'email', 'phone'],
    200,
  ),
} satisfies Record<string, Operation>;

export type OperationName = keyof typeof OPERATIONS;

/** catalog.yaml as spec/inputs.md §4 describes it. */
export function catalogYaml(): string {
  const categories: Record<string, { label: string }> = {};
  for (const [key, label] of Object.entries(CATEGORY_LABELS)) categories[key] = { label };
  const operations: Record<string, Category[]> = {};
  const paths: Record<string, Category[]> = {};
  for (const o of Object.values(OPERATIONS) as Operation[]) {
    operations[o.name] = [...o.returns];
    paths[`${o.method} ${o.path}`] = [...o.returns];
  }
  return (
    '# Data catalog of the simulated shop: which categories each operation returns.\n' +
    stringify({ categories, operations, paths }, { lineWidth: 0 })
  );
}
