# Pinned here, apart from the build, so that `packer init .` installs exactly what the build uses.
packer {
  required_version = ">= 1.10.0"

  required_plugins {
    # >= 1.3: imds_support, metadata_options and session_manager with a temporary instance profile.
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.3.0, < 2.0.0"
    }
  }
}
