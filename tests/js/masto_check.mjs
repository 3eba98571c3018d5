// masto.js (the library behind Elk) driving a FedChirp instance, for tests/test_masto_js.py.
//
//   node masto_check.mjs register   MASTO_URL                      -> the app and its authorize URL
//   node masto_check.mjs signin     MASTO_URL MASTO_CLIENT_ID MASTO_CLIENT_SECRET MASTO_CODE
//                                   -> the token and what an app reads once signed in
//   node masto_check.mjs post       MASTO_URL MASTO_TOKEN MASTO_IMAGE
//                                   -> an uploaded image, posts with it and with a poll
//   node masto_check.mjs stream     MASTO_URL MASTO_TOKEN
//                                   -> prints {"subscribed": true}, posts once a line
//                                      arrives on stdin, then prints the event it heard
//
// Settings come from the environment; each answer is one line of JSON on stdout (masto
// hands entities over in camelCase). A failure prints {"error": ...} and exits 1.
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import {
  createOAuthAPIClient,
  createRestAPIClient,
  createStreamingAPIClient,
} from "masto";

const OOB = "urn:ietf:wg:oauth:2.0:oob";
const SCOPES = "read write follow push";
const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const print = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
const rest = () =>
  createRestAPIClient({ url: env("MASTO_URL"), accessToken: env("MASTO_TOKEN") });

async function register() {
  const url = env("MASTO_URL");
  const app = await createRestAPIClient({ url }).v1.apps.create({
    clientName: "masto.js check",
    redirectUris: OOB,
    scopes: SCOPES,
    website: "https://example.invalid/masto-check",
  });
  // Elk sends the person's browser here.
  const query = new URLSearchParams({
    client_id: app.clientId,
    scope: SCOPES,
    redirect_uri: OOB,
    response_type: "code",
  });
  print({ app, authorizeUrl: `${url}/oauth/authorize?${query}` });
}

async function signin() {
  const url = env("MASTO_URL");
  const token = await createOAuthAPIClient({ url }).token.create({
    grantType: "authorization_code",
    clientId: env("MASTO_CLIENT_ID"),
    clientSecret: env("MASTO_CLIENT_SECRET"),
    redirectUri: OOB,
    code: env("MASTO_CODE"),
    scope: SCOPES,
  });
  const masto = createRestAPIClient({ url, accessToken: token.accessToken });
  const notifications = await masto.v1.notifications.list({ limit: 30 });
  // Elk asks for the push subscription at sign-in and takes a 404 for "none yet".
  const pushSubscription = await masto.v1.push.subscription
    .fetch()
    .catch((error) => ({ missing: error.statusCode ?? null }));
  // What an app like Elk reads right after signing in.
  print({
    token,
    account: await masto.v1.accounts.verifyCredentials(),
    app: await masto.v1.apps.verifyCredentials(),
    pushSubscription,
    instanceV1: await masto.v1.instance.fetch(),
    instanceV2: await masto.v2.instance.fetch(),
    preferences: await masto.v1.preferences.fetch(),
    emojis: await masto.v1.customEmojis.list(),
    filters: await masto.v2.filters.list(),
    lists: await masto.v1.lists.list(),
    markers: await masto.v1.markers.fetch({ timeline: ["home", "notifications"] }),
    notifications,
    relationships: await masto.v1.accounts.relationships.fetch({
      id: notifications.map((notification) => notification.account.id),
    }),
    home: await masto.v1.timelines.home.list({ limit: 20 }),
    followedTags: await masto.v1.followedTags.list(),
    search: await masto.v2.search.list({ q: "#tea", type: "hashtags" }),
  });
}

async function post() {
  const masto = rest();
  const png = await readFile(env("MASTO_IMAGE"));
  const media = await masto.v2.media.create({
    file: new Blob([png], { type: "image/png" }),
    description: "a small red square",
  });
  const withMedia = await masto.v1.statuses.create({
    status: "a picture from masto.js",
    mediaIds: [media.id],
  });
  const poll = { options: ["Tea", "Coffee"], expiresIn: 3600, multiple: false };
  const withPoll = await masto.v1.statuses.create({ status: "a poll from masto.js", poll });
  // Mastodon refuses a poll and media on one post; masto must surface the refusal.
  let both;
  try {
    both = { status: await masto.v1.statuses.create({ status: "both", mediaIds: [media.id], poll }) };
  } catch (error) {
    both = { refused: error.statusCode ?? null, message: error.message };
  }
  print({ media, withMedia, withPoll, both });
}

async function stream() {
  const masto = rest();
  const instance = await masto.v2.instance.fetch();
  const streaming = createStreamingAPIClient({
    streamingApiUrl: instance.configuration.urls.streaming,
    accessToken: env("MASTO_TOKEN"),
    retry: false,
  });
  const events = streaming.user.subscribe()[Symbol.asyncIterator]();
  let next = events.next(); // connects and sends the subscription
  print({ subscribed: true, streamingApiUrl: instance.configuration.urls.streaming });
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  await lines.next(); // the test saw our subscription on the server
  const status = await masto.v1.statuses.create({ status: "live from masto.js" });
  for (;;) {
    const { value, done } = await next;
    if (done) throw new Error("the stream ended before the post arrived");
    if (value.event === "update" && value.payload.id === status.id) {
      print({ status, event: value });
      break;
    }
    next = events.next();
  }
  streaming.close();
}

const commands = { register, signin, post, stream };
const command = commands[process.argv[2]];
const timer = setTimeout(() => {
  print({ error: `${process.argv[2]} took too long` });
  process.exit(1);
}, Number(process.env.MASTO_TIMEOUT_MS ?? 20000));
try {
  if (!command) throw new Error(`unknown command ${process.argv[2]}: ${Object.keys(commands)}`);
  await command();
  clearTimeout(timer);
  process.exit(0);
} catch (error) {
  print({ error: `${error.name}: ${error.message}`, status: error.statusCode ?? null });
  process.exit(1);
}
