import { App } from "cdktf";
import { addStacks } from "./stacks/app";
import { loadConfig } from "./stacks/load-config";

// The CDKTF app: one stack per environment of immutable.config.json.
const app = new App();
addStacks(app, loadConfig(process.env.IMMUTABLE_CONFIG));
app.synth();
