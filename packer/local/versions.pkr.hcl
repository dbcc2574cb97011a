# For current Packer, where the qemu builder is a plugin (`packer init .` installs it). Packer 1.6.6,
# which has the builder built in and does not know required_plugins, runs without this file.
packer {
  required_version = ">= 1.10.0"

  required_plugins {
    qemu = {
      source  = "github.com/hashicorp/qemu"
      version = ">= 1.1.0, < 2.0.0"
    }
  }
}
