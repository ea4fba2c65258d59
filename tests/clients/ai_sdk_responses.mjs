// The AI SDK's default OpenAI model, `openai(id)` (the Responses API), running a tool loop
// through the proxy, with and without streaming. Run by tests/test_responses_clients.py with
// the folder holding `ai` and `@ai-sdk/openai` as its working directory.
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText, tool, stepCountIs } from 'ai';
import { z } from 'zod';

const openai = createOpenAI({ baseURL: process.env.PROXY_URL, apiKey: 'unused' });
const model = openai(process.env.MODEL);
const calls = [];
const tools = {
  get_weather: tool({
    description: 'Current weather of a city.',
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => { calls.push(city); return `18C and sunny in ${city}`; },
  }),
};
const options = { model, prompt: process.env.PROMPT, tools, stopWhen: stepCountIs(3) };
const generated = await generateText(options);
const stream = streamText(options);
let streamed = '';
for await (const delta of stream.textStream) streamed += delta;
console.log(JSON.stringify({ provider: model.provider, text: generated.text, steps: generated.steps.length, streamed, calls }));
