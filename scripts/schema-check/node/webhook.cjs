// Plain webhooks: Herald's Standard Webhooks headers verified by the
// specification's own reference library over the exact body sent.
"use strict";
const { Webhook } = require("standardwebhooks");

exports.check = (request) => {
  try {
    new Webhook(request.secret).verify(request.body, request.headers);
    return [];
  } catch (err) {
    return [`standardwebhooks: ${err.message}`];
  }
};
