// The official TypeScript SDK as a client of the gateway, the way a Node
// backend calls it (tests/gateway/clients.rs):
//
//     node sdk_client.cjs SPEC.json SDK_PREFIX
//
// SPEC: {"base_url", "id", "originals"}; SDK_PREFIX: where npm installed
// @anthropic-ai/sdk (`make sdks`). Runs messages.stream() with
// finalMessage() and messages.create() against the gateway (whose upstream
// echoes the tokens it got) and prints one JSON report. Exit 3 when the
// SDK is missing.
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
  const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  let sdk;
  try {
    sdk = require(path.join(process.argv[3], 'node_modules', '@anthropic-ai', 'sdk'));
  } catch (e) {
    console.error(`sdk_client.cjs: ${e.message}: \`make sdks\` (or \`make test\`) installs the SDK`);
    process.exit(3);
  }
  const Anthropic = sdk.default || sdk.Anthropic || sdk;
  const client = new Anthropic({
    baseURL: spec.base_url, apiKey: 'sk-ant-dummy', maxRetries: 0,
    defaultHeaders: { 'x-e2e-id': spec.id },
  });
  const prompt = 'Which of these need attention? ' + spec.originals.join(', ');
  const tools = [{ name: 'Bash', description: 'Run a shell command', input_schema: { type: 'object', properties: { command: { type: 'string' } } } }];
  const of = (msg) => ({
    text: msg.content.filter((b) => b.type === 'text').map((b) => b.text).join(''),
    tool_inputs: msg.content.filter((b) => b.type === 'tool_use').map((b) => b.input),
    stop_reason: msg.stop_reason,
  });
  const report = { version: sdk.VERSION || null };
  let streamed = '';
  const stream = client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 1024, tools, messages: [{ role: 'user', content: prompt }] });
  stream.on('text', (t) => { streamed += t; });
  report.stream = { ...of(await stream.finalMessage()), streamed_text: streamed };
  report.create = of(await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 1024, tools, messages: [{ role: 'user', content: prompt }] }));
  console.log(JSON.stringify(report));
}

main().catch((e) => { console.error(e && e.stack || e); process.exit(1); });
