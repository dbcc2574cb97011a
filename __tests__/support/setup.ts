import { Testing } from "cdktf";

// Adds the cdktf matchers (toHaveResourceWithProperties, toBeValidTerraform, ...) to expect.
Testing.setupJest();
