/** What GraphiQL opens with: the storefront's first question, against the demo catalogue. */
export const GRAPHIQL_DEFAULT_QUERY = `# backorder-api: products, stock, fair backorder queues, live.
# Try it on the demo catalogue (skus DEMO-MUG, DEMO-TEE, DEMO-LAMP, DEMO-POSTER).
# Staff and customer tokens are printed by \`npm start\`; put one in the Headers tab:
#   { "Authorization": "Bearer <token>" }

query ProductAvailability {
  product(sku: "DEMO-LAMP") {
    id
    sku
    name
    availability {
      status
      quantityAvailable
      backorderable
      queueLength
      unitsOnBackorder
      nextRestockAt
      estimatedAvailableAt(quantity: 1)
    }
  }
}
`;
