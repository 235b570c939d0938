const fs = require('fs');

module.exports = async () => {
  const dir = process.env.HOOKLINE_TEST_TMPDIR;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
};
