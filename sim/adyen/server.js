// A simulated Adyen payment terminal speaking the local Terminal API for kiosk-agent's tests and demo.
// Every request is decrypted, and every answer built and encrypted, by Adyen's own @adyen/api-library
// (NexoCrypto, ObjectSerializer): an independent peer for our Python driver.
//
//   node server.js --cert C --key K --poi-id P --key-identifier I --key-version V --passphrase S [--port N]
//                  [--timeout SECONDS]
// First stdout line: {"port": N}. POST /nexo takes nexo messages; /sim/* is the test's control channel:
// POST /sim/mode {"next": M, "holder"?: NAME} sets what the next payment does, GET /sim/state counts.
// Modes: approve, decline, partial (approves partial_amount), timeout (the guest never taps: no answer,
// not charged), lose (approved, the connection is dropped before the answer), busy, slow (approves after
// `timeout` seconds unless aborted), late (as slow, but approves even after an abort: "approved after abort").
"use strict";

const https = require("https");
const fs = require("fs");
const { NexoCrypto } = require("@adyen/api-library");
const { ObjectSerializer } = require("@adyen/api-library/lib/src/typings/terminal/models");
const keyGenerator = require("@adyen/api-library/lib/src/security/nexoDerivedKeyGenerator").default;

// The library derives the key (PBKDF2, 4,000 rounds, 640 bytes) twice per message; a terminal derives it once.
// Keep the library's own derivation, remembered per passphrase, so a 1,000-payment run is not all PBKDF2.
const derive = keyGenerator.deriveKeyMaterial.bind(keyGenerator);
const derived = new Map();
keyGenerator.deriveKeyMaterial = (passphrase) => {
  if (!derived.has(passphrase)) derived.set(passphrase, derive(passphrase));
  return derived.get(passphrase);
};

const MODES = ["approve", "decline", "partial", "timeout", "lose", "busy", "slow", "late"];

function arg(name, fallback) {
  const i = process.argv.indexOf("--" + name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const securityKey = {
  KeyIdentifier: arg("key-identifier"),
  KeyVersion: Number(arg("key-version", "1")),
  Passphrase: arg("passphrase"),
  AdyenCryptoVersion: 1,
};
const poiId = arg("poi-id");
const holdSeconds = Number(arg("timeout", "2"));
const nexo = new NexoCrypto();

const state = {
  mode: "approve",
  holder: null,
  partialAmount: 10.0,
  requests: 0, // Payment requests received
  aborts: 0,
  transactions: {}, // SaleID/ServiceID -> {reference, status, kind, response, poiTransactionId, amount, currency}
  charges: {}, // our reference -> [{amount, currency, kind, poiTransactionId, reversed}] (approved ones only)
  sent: {}, // our reference -> Payment requests received for it (more than one: it was sent twice)
};
let seq = 0;

function now() {
  return new Date().toISOString();
}

function responseHeader(header) {
  return { ...header, MessageType: "Response" };
}

function send(res, header, body) {
  const message = ObjectSerializer.serialize({ SaleToPOIResponse: { MessageHeader: responseHeader(header), ...body } },
    "TerminalApiResponse");
  const secured = NexoCrypto.encrypt(responseHeader(header), JSON.stringify(message), securityKey);
  const out = JSON.stringify(ObjectSerializer.serialize({ SaleToPOIResponse: secured }, "TerminalApiSecuredResponse"));
  res.writeHead(200, { "Content-Type": "application/json" });
  res.end(out);
}

function reject(res, details) {
  res.writeHead(200, { "Content-Type": "application/json" });
  res.end(JSON.stringify({ SaleToPOIRequest: { MessageHeader: { MessageType: "Notification" },
    EventNotification: { EventToNotify: "Reject", EventDetails: details, TimeStamp: now() } } }));
}

function failure(condition, text) {
  return { Result: "Failure", ErrorCondition: condition, AdditionalResponse: "message=" + encodeURIComponent(text) };
}

function approvalBody(tx, amount) {
  const holder = tx.holder || "A CARDHOLDER";
  return {
    Response: {
      Result: amount < tx.amount ? "Partial" : "Success",
      AdditionalResponse: "cardHolderName=" + encodeURIComponent(holder) + "&expiryDate=12%2F2030&cardSummary=1111"
        + "&paymentMethod=visa&authorisationType=" + (tx.kind === "preauth" ? "PreAuth" : "FinalAuth"),
    },
    SaleData: { SaleTransactionID: { TransactionID: tx.reference, TimeStamp: tx.time } },
    POIData: { POITransactionID: { TransactionID: tx.poiTransactionId, TimeStamp: now() } },
    PaymentResult: {
      AmountsResp: { AuthorizedAmount: amount, Currency: tx.currency },
      PaymentInstrumentData: { PaymentInstrumentType: "Card", CardData: {
        PaymentBrand: "visa", MaskedPan: "411111 ****** 1111", SensitiveCardData: { ExpiryDate: "1230" } } },
      PaymentAcquirerData: { ApprovalCode: "123456:APPROVED", AcquirerPOIID: poiId,
        AcquirerTransactionID: { TransactionID: tx.poiTransactionId, TimeStamp: now() } },
    },
  };
}

function declinedBody(tx, condition, text) {
  return {
    Response: failure(condition, text),
    SaleData: { SaleTransactionID: { TransactionID: tx.reference, TimeStamp: tx.time } },
    POIData: { POITransactionID: { TransactionID: tx.poiTransactionId, TimeStamp: now() } },
  };
}

function approve(tx, amount) {
  tx.status = "done";
  tx.response = approvalBody(tx, amount);
  const list = state.charges[tx.reference] || (state.charges[tx.reference] = []);
  list.push({ amount, currency: tx.currency, kind: tx.kind, poiTransactionId: tx.poiTransactionId, reversed: false });
  return tx.response;
}

function decline(tx, condition, text) {
  tx.status = "done";
  tx.response = declinedBody(tx, condition, text);
  return tx.response;
}

function payment(req, res, header, body) {
  state.requests += 1;
  const key = header.SaleID + "/" + header.ServiceID;
  const mode = state.mode;
  const holder = state.holder;
  state.mode = "approve";
  state.holder = null;
  if (mode === "busy") {
    return send(res, header, { PaymentResponse: { Response: failure("Busy", "terminal busy"),
      POIData: { POITransactionID: { TransactionID: "busy", TimeStamp: now() } } } });
  }
  const saleData = body.SaleData || {};
  const amounts = (body.PaymentTransaction || {}).AmountsReq || {};
  const tx = {
    reference: (saleData.SaleTransactionID || {}).TransactionID,
    time: (saleData.SaleTransactionID || {}).TimeStamp || now(),
    kind: String(saleData.SaleToAcquirerData || "").includes("authorisationType=PreAuth") ? "preauth" : "sale",
    amount: Number(amounts.RequestedAmount),
    currency: amounts.Currency,
    holder,
    status: "pending",
    aborted: false,
    poiTransactionId: "SIM" + String(++seq).padStart(6, "0") + "." + String(Date.now()),
  };
  state.sent[tx.reference] = (state.sent[tx.reference] || 0) + 1;
  if (state.transactions[key]) { // the same ServiceID twice: never a second charge
    return send(res, header, { PaymentResponse: declinedBody(tx, "MessageFormat", "duplicate ServiceID") });
  }
  state.transactions[key] = tx;
  if (mode === "decline") return send(res, header, { PaymentResponse: decline(tx, "Refusal", "declined") });
  if (mode === "partial") return send(res, header, { PaymentResponse: approve(tx, Math.min(state.partialAmount, tx.amount)) });
  if (mode === "lose") {
    approve(tx, tx.amount);
    return req.socket.destroy();
  }
  if (mode === "approve") return send(res, header, { PaymentResponse: approve(tx, tx.amount) });
  // timeout, slow, late: the guest takes `timeout` seconds at the terminal
  const started = Date.now();
  const timer = setInterval(() => {
    const over = Date.now() - started >= holdSeconds * 1000;
    if (!tx.aborted && !over) return;
    clearInterval(timer);
    let out;
    if (mode === "late") out = approve(tx, tx.amount);
    else if (tx.aborted) out = decline(tx, "Aborted", "aborted by the sale system");
    else if (mode === "timeout") out = decline(tx, "Cancel", "timed out at the terminal");
    else out = approve(tx, tx.amount);
    if (!res.destroyed && !res.writableEnded) send(res, header, { PaymentResponse: out });
  }, 20);
}

function abort(res, header, body) {
  state.aborts += 1;
  const ref = body.MessageReference || {};
  const tx = state.transactions[ref.SaleID + "/" + ref.ServiceID];
  if (tx && tx.status === "pending") tx.aborted = true;
  res.writeHead(200);
  res.end(); // a terminal answers an Abort with an empty body
}

function transactionStatus(res, header, body) {
  const ref = body.MessageReference || {};
  const tx = state.transactions[ref.SaleID + "/" + ref.ServiceID];
  if (!tx) return send(res, header, { TransactionStatusResponse: { Response: failure("NotFound", "not found") } });
  if (tx.status === "pending") {
    return send(res, header, { TransactionStatusResponse: { Response: failure("InProgress", "in progress") } });
  }
  const original = { ...header, MessageCategory: "Payment", ServiceID: ref.ServiceID, MessageType: "Response" };
  send(res, header, { TransactionStatusResponse: { Response: { Result: "Success" }, MessageReference: ref,
    RepeatedMessageResponse: { MessageHeader: original,
      RepeatedResponseMessageBody: { PaymentResponse: tx.response } } } });
}

function reversal(res, header, body) {
  const id = ((body.OriginalPOITransaction || {}).POITransactionID || {}).TransactionID;
  for (const list of Object.values(state.charges)) {
    for (const charge of list) {
      if (charge.poiTransactionId === id && !charge.reversed) {
        charge.reversed = true;
        return send(res, header, { ReversalResponse: { Response: { Result: "Success" },
          POIData: { POITransactionID: { TransactionID: "REV" + id, TimeStamp: now() } } } });
      }
    }
  }
  send(res, header, { ReversalResponse: { Response: failure("NotAllowed", "nothing to reverse") } });
}

function diagnosis(res, header) {
  send(res, header, { DiagnosisResponse: { Response: { Result: "Success" },
    POIStatus: { GlobalStatus: "OK", PEDOKFlag: true, CardReaderOKFlag: true } } });
}

function nexoRequest(req, res, raw) {
  let secured;
  try {
    secured = JSON.parse(raw).SaleToPOIRequest;
  } catch (e) {
    return reject(res, "message=Invalid+JSON");
  }
  const trailer = (secured && secured.SecurityTrailer) || {};
  if (trailer.KeyIdentifier !== securityKey.KeyIdentifier || Number(trailer.KeyVersion) !== securityKey.KeyVersion) {
    return reject(res, "message=Crypto+key+unknown");
  }
  let message;
  try {
    message = JSON.parse(nexo.decrypt(secured, securityKey)).SaleToPOIRequest;
  } catch (e) {
    return reject(res, "message=Crypto+error");
  }
  const header = message.MessageHeader || {};
  if (header.POIID !== poiId) return reject(res, "message=Wrong+POIID");
  switch (header.MessageCategory) {
    case "Payment": return payment(req, res, header, message.PaymentRequest || {});
    case "Abort": return abort(res, header, message.AbortRequest || {});
    case "TransactionStatus": return transactionStatus(res, header, message.TransactionStatusRequest || {});
    case "Reversal": return reversal(res, header, message.ReversalRequest || {});
    case "Diagnosis": return diagnosis(res, header);
    default: return reject(res, "message=Unsupported+category");
  }
}

function control(req, res, raw) {
  if (req.method === "POST" && req.url === "/sim/mode") {
    const asked = JSON.parse(raw || "{}");
    if (!MODES.includes(asked.next)) {
      res.writeHead(400);
      return res.end(JSON.stringify({ error: "mode must be one of " + MODES.join(", ") }));
    }
    state.mode = asked.next;
    if (asked.holder !== undefined) state.holder = asked.holder;
    if (asked.partial_amount !== undefined) state.partialAmount = Number(asked.partial_amount);
    res.writeHead(200);
    return res.end("{}");
  }
  if (req.url === "/sim/state") {
    res.writeHead(200, { "Content-Type": "application/json" });
    return res.end(JSON.stringify({ requests: state.requests, aborts: state.aborts, charges: state.charges,
      sent: state.sent,
      pending: Object.values(state.transactions).filter((t) => t.status === "pending").length }));
  }
  res.writeHead(404);
  res.end();
}

const server = https.createServer({ cert: fs.readFileSync(arg("cert")), key: fs.readFileSync(arg("key")) },
  (req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf-8");
      try {
        if (req.url.startsWith("/sim/")) return control(req, res, raw);
        if (req.method === "POST" && req.url === "/nexo") return nexoRequest(req, res, raw);
        res.writeHead(404);
        res.end();
      } catch (e) {
        res.writeHead(500);
        res.end(String(e));
      }
    });
  });
server.keepAliveTimeout = 1000;
server.listen(Number(arg("port", "0")), arg("host", "127.0.0.1"), () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + "\n");
});
process.on("SIGTERM", () => process.exit(0));
