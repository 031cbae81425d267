// Render a cucumber JSON file with cucumber-html-reporter, as a CI cucumber dashboard would.
// usage: node render.js CUCUMBER.json OUT.html   (prints the scenario and step counts the tool read)
const fs = require("fs");
const reporter = require("cucumber-html-reporter");

const [input, output] = process.argv.slice(2);
const features = JSON.parse(fs.readFileSync(input, "utf8"));
reporter.generate({
  theme: "bootstrap",
  jsonFile: input,
  output,
  reportSuiteAsScenarios: true,
  launchReport: false,
  noInlineScreenshots: true,
  metadata: {},
});
const scenarios = features.reduce((n, f) => n + f.elements.length, 0);
const steps = features.reduce((n, f) => n + f.elements.reduce((m, e) => m + e.steps.length, 0), 0);
console.log(JSON.stringify({ features: features.length, scenarios, steps, html: fs.existsSync(output) }));
