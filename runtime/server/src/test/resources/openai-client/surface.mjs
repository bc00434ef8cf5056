// The parts of the OpenAI surface agent frameworks lean on, driven with the official OpenAI Node client,
// unmodified: tools (forced, streamed, and the round trip with the tool's answer), JSON-schema output,
// logprobs, several choices and stream usage. Prints what it saw as JSON; the Java test judges it.
// Usage: node surface.mjs   (OPENAI_BASE_URL, OPENAI_API_KEY and MODEL in the environment)
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL, apiKey: process.env.OPENAI_API_KEY, maxRetries: 0 });
const model = process.env.MODEL;
const out = {};
const ask = [{ role: 'user', content: 'What is the weather in Paris?' }];
const tools = [{
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', enum: ['Paris', 'Oslo', 'Lima'] } },
      required: ['city'],
      additionalProperties: false,
    },
  },
}];
const base = { model, max_tokens: 200, temperature: 0, seed: 7 };
// Random weights never choose to call a tool: the grammar that tool_choice "required" sets lets a model
// write text before its call. TOOL_BIAS (logit_bias, passed through like any OpenAI parameter) favours the
// model's <tool_call> token, the JSON punctuation over whitespace, and the end once the call is complete.
const nudge = { logit_bias: JSON.parse(process.env.TOOL_BIAS ?? '{}'), parallel_tool_calls: false };

async function attempt(name, fn) {
  try {
    out[name] = await fn();
  } catch (e) {
    out[name] = { error: { status: e.status, code: e.code, message: e.message } };
  }
}

await attempt('toolCall', async () => {
  const r = await client.chat.completions.create({ ...base, messages: ask, tools, tool_choice: 'required', ...nudge });
  const m = r.choices[0].message;
  return { finish: r.choices[0].finish_reason, content: m.content, calls: m.tool_calls ?? [], usage: r.usage };
});

await attempt('toolStream', async () => {
  const s = await client.chat.completions.create({ ...base, messages: ask, tools, tool_choice: 'required', stream: true, ...nudge });
  const calls = [];
  let finish = null;
  for await (const chunk of s) {
    const c = chunk.choices[0];
    if (!c) continue;
    for (const piece of c.delta?.tool_calls ?? []) {
      const call = (calls[piece.index] ??= { id: null, type: null, function: { name: '', arguments: '' } });
      if (piece.id) call.id = piece.id;
      if (piece.type) call.type = piece.type;
      if (piece.function?.name) call.function.name += piece.function.name;
      if (piece.function?.arguments) call.function.arguments += piece.function.arguments;
    }
    finish = c.finish_reason ?? finish;
  }
  return { finish, calls };
});

await attempt('roundTrip', async () => {
  const first = await client.chat.completions.create({ ...base, messages: ask, tools, tool_choice: 'required', ...nudge });
  const call = first.choices[0].message.tool_calls[0];
  const messages = [...ask, first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: '{"temperature_c": 21}' }];
  const second = await client.chat.completions.create({ ...base, max_tokens: 12, messages, tools, tool_choice: 'none' });
  return { finish: second.choices[0].finish_reason, content: second.choices[0].message.content, calls: second.choices[0].message.tool_calls ?? [] };
});

await attempt('jsonSchema', async () => {
  const schema = {
    type: 'object',
    properties: { answer: { type: 'string', enum: ['yes', 'no'] }, score: { type: 'integer', minimum: 0, maximum: 9 } },
    required: ['answer', 'score'],
    additionalProperties: false,
  };
  const r = await client.chat.completions.create({
    ...base, max_tokens: 600, messages: [{ role: 'user', content: 'Is the sky blue?' }],
    response_format: { type: 'json_schema', json_schema: { name: 'verdict', schema, strict: true } },
  });
  const s = await client.chat.completions.create({
    ...base, max_tokens: 600, stream: true, messages: [{ role: 'user', content: 'Is the sky blue?' }],
    response_format: { type: 'json_schema', json_schema: { name: 'verdict', schema, strict: true } },
  });
  let streamed = '';
  for await (const chunk of s) streamed += chunk.choices[0]?.delta?.content ?? '';
  return { content: r.choices[0].message.content, streamed, finish: r.choices[0].finish_reason };
});

await attempt('jsonObject', async () => {
  const r = await client.chat.completions.create({
    ...base, max_tokens: 300, messages: [{ role: 'user', content: 'Answer in JSON' }], response_format: { type: 'json_object' },
  });
  return { content: r.choices[0].message.content, finish: r.choices[0].finish_reason };
});

await attempt('logprobs', async () => {
  const r = await client.chat.completions.create({ ...base, max_tokens: 8, messages: ask, logprobs: true, top_logprobs: 2 });
  return { content: r.choices[0].message.content, logprobs: r.choices[0].logprobs, usage: r.usage };
});

await attempt('choices', async () => {
  const r = await client.chat.completions.create({ ...base, max_tokens: 6, temperature: 1, messages: ask, n: 3 });
  return { choices: r.choices.map((c) => ({ index: c.index, content: c.message.content, finish: c.finish_reason })), usage: r.usage };
});

await attempt('moreChoicesThanSequences', async () => {
  const r = await client.chat.completions.create({ ...base, max_tokens: 4, messages: ask, n: 5 });
  return { choices: r.choices.length };
});

await attempt('streamUsage', async () => {
  const chunks = [];
  const s = await client.chat.completions.create({ ...base, max_tokens: 5, messages: ask, stream: true, stream_options: { include_usage: true } });
  for await (const chunk of s) chunks.push({ choices: chunk.choices.length, usage: chunk.usage ?? null });
  const plain = [];
  const p = await client.chat.completions.create({ ...base, max_tokens: 5, messages: ask, stream: true });
  for await (const chunk of p) plain.push({ choices: chunk.choices.length, usage: chunk.usage ?? null });
  return { chunks, plain };
});

await attempt('textLogprobs', async () => {
  const r = await client.completions.create({ model, prompt: 'The river', max_tokens: 4, temperature: 0, logprobs: 2 });
  return { text: r.choices[0].text, logprobs: r.choices[0].logprobs };
});

console.log(JSON.stringify(out));
