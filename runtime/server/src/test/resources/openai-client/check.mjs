// Drives Dalang with the official OpenAI Node client, unmodified, and prints what it saw as JSON.
// Usage: node check.mjs   (OPENAI_BASE_URL, OPENAI_API_KEY and MODEL in the environment)
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL, apiKey: process.env.OPENAI_API_KEY, maxRetries: 0 });
const model = process.env.MODEL;
const messages = [{ role: 'user', content: 'Tell me about rivers' }];
const out = {};

const whole = await client.chat.completions.create({ model, messages, max_tokens: 16, temperature: 0, seed: 5 });
out.chat = { text: whole.choices[0].message.content, finish: whole.choices[0].finish_reason, usage: whole.usage };

const stream = await client.chat.completions.create({
  model, messages, max_tokens: 16, temperature: 0, seed: 5, stream: true, stream_options: { include_usage: true },
});
let text = '';
let chunks = 0;
let finish = null;
let usage = null;
for await (const chunk of stream) {
  chunks++;
  text += chunk.choices[0]?.delta?.content ?? '';
  finish = chunk.choices[0]?.finish_reason ?? finish;
  usage = chunk.usage ?? usage;
}
out.stream = { text, chunks, finish, usage };

const completion = await client.completions.create({ model, prompt: 'The tree is', max_tokens: 8, temperature: 0 });
out.completion = { text: completion.choices[0].text, usage: completion.usage };

out.models = (await client.models.list()).data.map((m) => m.id);

try {
  await client.chat.completions.create({ model: 'no-such-model', messages });
  out.notFound = 'no error';
} catch (e) {
  out.notFound = { status: e.status, code: e.code, type: e.type, message: e.message };
}
try {
  await new OpenAI({ baseURL: process.env.OPENAI_BASE_URL, apiKey: 'wrong', maxRetries: 0 }).models.list();
  out.badKey = 'no error';
} catch (e) {
  out.badKey = { status: e.status, code: e.code };
}
console.log(JSON.stringify(out));
