// Prints one line per render: OK, or FAIL and its errors; then a summary.
// Every render in the index must have been checked by exactly one
// validator: a render nobody checked is a failure, not a skip.
//
//   node report.cjs <renders-dir> <results.json>...
//   node report.cjs --self-test <results.json>...
//
// With --self-test the results are {name: {expect, errors}}: every case
// must have been refused, by the check whose mark `expect` is.
"use strict";
const fs = require("fs");
const path = require("path");

const MAX_ERRORS = 12;

function merged(files) {
  const all = {};
  for (const file of files) {
    for (const [name, errors] of Object.entries(JSON.parse(fs.readFileSync(file, "utf8")))) {
      if (name in all) throw new Error(`${name} was checked twice (${file})`);
      all[name] = errors;
    }
  }
  return all;
}

function printErrors(errors) {
  for (const e of errors.slice(0, MAX_ERRORS)) console.log(`       ${e}`);
  if (errors.length > MAX_ERRORS) console.log(`       … and ${errors.length - MAX_ERRORS} more`);
}

function renders(dir, files) {
  const index = JSON.parse(fs.readFileSync(path.join(dir, "index.json"), "utf8"));
  const results = merged(files);
  let failed = 0;
  for (const entry of index) {
    const name = entry.file.replace(/\.json$/, "");
    const errors = results[name];
    delete results[name];
    if (errors === undefined) {
      failed++;
      console.log(`FAIL ${name}: no validator checked it`);
    } else if (errors.length) {
      failed++;
      console.log(`FAIL ${name}`);
      printErrors(errors);
    } else {
      console.log(`OK   ${name}`);
    }
  }
  for (const name of Object.keys(results)) {
    failed++;
    console.log(`FAIL ${name}: checked, but not in the index`);
  }
  console.log(`\nschemas: ${index.length - failed} passed, ${failed} failed`);
  return failed;
}

function selfTest(files) {
  const results = merged(files);
  let failed = 0;
  for (const [name, { expect, errors }] of Object.entries(results)) {
    const refusedBy = errors.filter((e) => e.includes(expect));
    if (refusedBy.length === 0) {
      failed++;
      console.log(`FAIL ${name}: broken payload not refused by "${expect}"`);
      printErrors(errors);
    } else {
      console.log(`OK   ${name}: refused (${refusedBy[0].slice(0, 150)})`);
    }
  }
  const total = Object.keys(results).length;
  if (total === 0) {
    failed++;
    console.log("FAIL the self-test checked nothing");
  }
  console.log(`\nself-test: ${total - failed} passed, ${failed} failed`);
  return failed;
}

const [first, ...rest] = process.argv.slice(2);
const failed = first === "--self-test" ? selfTest(rest) : renders(first, rest);
process.exit(failed ? 1 : 0);
