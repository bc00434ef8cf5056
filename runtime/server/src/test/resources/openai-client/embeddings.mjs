// Embeddings through the official OpenAI Node client, unmodified: a string, the same string again, an
// array, floats asked for explicitly (the client asks for base64 by default and decodes it itself), and
// embeddings asked of a model that only generates. Prints what it saw as JSON; the Java test judges it.
// Usage: node embeddings.mjs   (OPENAI_BASE_URL, OPENAI_API_KEY, MODEL: the embedding model, CHAT_MODEL)
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL, apiKey: process.env.OPENAI_API_KEY, maxRetries: 0 });
const model = process.env.MODEL;
const out = {};

async function attempt(name, fn) {
  try {
    out[name] = await fn();
  } catch (e) {
    out[name] = { error: { status: e.status, code: e.code, param: e.param, message: e.message } };
  }
}

const shape = (r) => ({ model: r.model, usage: r.usage, data: r.data.map((d) => ({ index: d.index, embedding: Array.from(d.embedding) })) });

await attempt('single', async () => shape(await client.embeddings.create({ model, input: 'The quick brown fox' })));
await attempt('again', async () => shape(await client.embeddings.create({ model, input: 'The quick brown fox' })));
await attempt('array', async () => shape(await client.embeddings.create({ model, input: ['one', 'two words', 'The quick brown fox'] })));
await attempt('floats', async () => {
  const r = await client.embeddings.create({ model, input: 'The quick brown fox', encoding_format: 'float' });
  return { ...shape(r), type: typeof r.data[0].embedding[0] };
});
await attempt('dimensions', async () => shape(await client.embeddings.create({ model, input: 'x', dimensions: 3 })));
await attempt('chatModel', async () => shape(await client.embeddings.create({ model: process.env.CHAT_MODEL, input: 'x' })));
await attempt('chatToEmbedModel', async () => {
  const r = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 });
  return { content: r.choices[0].message.content };
});

console.log(JSON.stringify(out));
