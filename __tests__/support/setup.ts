import { Testing } from "cdktf";
// Types of the cdktf matchers (toHaveResourceWithProperties, toBeValidTerraform, ...).
import "cdktf/lib/testing/adapters/jest";

// Adds the cdktf matchers to expect.
Testing.setupJest();
