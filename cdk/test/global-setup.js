// Every temporary file of the run (synthesized assemblies, placeholder zips) goes under one
// folder that global-teardown.js removes: the workers inherit TMPDIR.
const fs = require('fs');
const os = require('os');
const path = require('path');

module.exports = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hookline-cdk-tests-'));
  process.env.HOOKLINE_TEST_TMPDIR = dir;
  process.env.TMPDIR = dir;
};
