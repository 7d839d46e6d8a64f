// Sends every call type twice (same messageIds) with Segment's Node library, then flushes.
const { Analytics } = require('@segment/analytics-node')

async function main () {
  const [writeKey, host] = process.argv.slice(2)
  for (let round = 0; round < 2; round++) {
    const analytics = new Analytics({ writeKey, host, flushAt: 20, maxRetries: 1 })
    analytics.on('error', (error) => { console.error(error); process.exitCode = 1 })
    analytics.identify({ userId: 'node-1', traits: { email: 'node@example.com' }, messageId: 'node-1' })
    analytics.track({ userId: 'node-1', event: 'Order Completed', properties: { order_id: 'n-1', total: 9.5 }, messageId: 'node-2' })
    analytics.page({ userId: 'node-1', name: 'Home', messageId: 'node-3' })
    analytics.screen({ userId: 'node-1', name: 'Cart', messageId: 'node-4' })
    analytics.group({ userId: 'node-1', groupId: 'acme', messageId: 'node-5' })
    analytics.alias({ userId: 'node-1', previousId: 'anon-node', messageId: 'node-6' })
    for (let n = 0; n < 50; n++) {
      analytics.track({ anonymousId: 'anon-node', event: 'Product Viewed', messageId: `node-view-${String(n).padStart(2, '0')}` })
    }
    await analytics.closeAndFlush({ timeout: 20000 })
  }
}

main()
