// An independent SOAP client: node-soap builds its own client from the gateway's WSDL,
// authenticates with a WS-Security UsernameToken (PasswordDigest + Nonce + Timestamp), submits
// an entry, reads its status back, and tries a wrong password. Input: one JSON object on
// stdin ({wsdl, username, password, entry}); output: one JSON object on stdout.
"use strict";

const soap = require("soap");

function readStdin() {
  return new Promise((resolve, reject) => {
    let data = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk) => (data += chunk));
    process.stdin.on("end", () => resolve(JSON.parse(data)));
    process.stdin.on("error", reject);
  });
}

function security(username, password) {
  return new soap.WSSecurity(username, password, {
    passwordType: "PasswordDigest",
    hasNonce: true,
    hasTimeStamp: true,
  });
}

function faultOf(err) {
  const fault = err && err.root && err.root.Envelope && err.root.Envelope.Body.Fault;
  if (!fault) throw err;
  return { faultcode: fault.faultcode, faultstring: fault.faultstring, detail: fault.detail };
}

async function main() {
  const input = await readStdin();
  const client = await soap.createClientAsync(input.wsdl);
  client.setSecurity(security(input.username, input.password));
  const [receipt] = await client.SubmitEntryAsync({ Entry: input.entry });
  const [status] = await client.GetEntryStatusAsync({ EntryNumber: input.entry.EntryNumber });

  const intruder = await soap.createClientAsync(input.wsdl);
  intruder.setSecurity(security(input.username, input.password + "x"));
  let refused = null;
  try {
    await intruder.ListEntriesAsync({});
  } catch (err) {
    refused = faultOf(err);
  }
  process.stdout.write(JSON.stringify({ receipt, status, refused }));
}

main().catch((err) => {
  process.stderr.write(String((err && err.stack) || err) + "\n");
  process.exit(1);
});
