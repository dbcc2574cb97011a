# The answers a project gives this image. The generator writes them to <app>.auto.pkrvars.hcl; the
# checks below repeat its validation so that a hand-edited file fails before any instance starts.

variable "app_name" {
  description = "Name of the app: names the AMI and the SSM paths /<app>/<env>/. On the instance it only ever follows the immutable-app prefix (immutable-app@<app>.service, /etc/immutable-app/<app>/, localhost/immutable-app/<app>:baked), so no app name clashes with the OS."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,19}$", var.app_name))
    error_message = "The app_name must start with a lowercase letter and contain only a-z, 0-9 and '-', at most 20 characters."
  }
}

variable "app_version" {
  description = "Version of the app baked into this image; part of the AMI name and tags."
  type        = string

  validation {
    # AMI names allow no '+', so build metadata of semver cannot be used here.
    condition     = can(regex("^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$", var.app_version))
    error_message = "The app_version must be 1-64 characters of 0-9, A-Z, a-z, '.', '_' and '-', starting with a letter or digit."
  }
}

variable "git_sha" {
  description = "Commit the image is built from, recorded in the AMI tags and the manifest; \"unknown\" when there is none (a repository without commits). Pass it on the command line: -var \"git_sha=$(git rev-parse --verify -q HEAD || echo unknown)\"."
  type        = string

  validation {
    condition     = var.git_sha == "unknown" || can(regex("^[0-9a-f]{7,40}$", var.git_sha))
    error_message = "The git_sha must be a hexadecimal commit id of 7 to 40 characters, or unknown."
  }
}

variable "aws_region" {
  description = "Region the AMI is built and registered in."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.aws_region))
    error_message = "The aws_region must look like us-east-1."
  }
}

variable "instance_type" {
  description = "Instance type of the temporary build instance; its architecture must match var.architecture."
  type        = string
  default     = "t3.small"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "The instance_type must look like t3.small."
  }
}

variable "architecture" {
  description = "CPU architecture of the image: x86_64 or arm64 (Graviton)."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "The architecture must be x86_64 or arm64."
  }
}

variable "base_os" {
  description = "Base image: ubuntu-24.04 (Canonical), al2023 (Amazon Linux 2023) or debian-12 (Debian), always the latest official build."
  type        = string
  default     = "ubuntu-24.04"

  validation {
    condition     = contains(["ubuntu-24.04", "al2023", "debian-12"], var.base_os)
    error_message = "The base_os must be ubuntu-24.04, al2023 or debian-12."
  }
}

variable "container_image" {
  description = "The app's container image (registry/repository:tag or @sha256:digest). Pulled once at bake time and tagged localhost/immutable-app/<app>:baked, so instances never pull at boot."
  type        = string

  validation {
    condition     = length(var.container_image) <= 512 && can(regex("^[a-z0-9][A-Za-z0-9._/:@-]*$", var.container_image))
    error_message = "The container_image must be an image reference such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.2.3 (no spaces, at most 512 characters)."
  }
}

variable "app_port" {
  description = "TCP port the app listens on inside the container; published on the same port of the instance."
  type        = number
  default     = 8080

  validation {
    # 22 stays closed on every instance: break-glass access is SSM Session Manager only.
    condition     = var.app_port >= 1 && var.app_port <= 65535 && floor(var.app_port) == var.app_port && var.app_port != 22
    error_message = "The app_port must be an integer from 1 to 65535, and not 22."
  }
}

variable "health_check_path" {
  description = "HTTP path that answers 2xx when the app is healthy; the image test and the load balancer call it."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/[A-Za-z0-9._~%/?=&+-]*$", var.health_check_path))
    error_message = "The health_check_path must start with '/' and use only URL path characters."
  }
}

variable "ami_ssm_parameter" {
  description = "SSM parameter that receives the new AMI id (data type aws:ec2:image), e.g. /<app>/image/ami-id. Empty: do not publish."
  type        = string
  default     = ""

  validation {
    condition     = var.ami_ssm_parameter == "" || (length(var.ami_ssm_parameter) <= 1011 && can(regex("^(/[A-Za-z0-9_.-]+)+$", var.ami_ssm_parameter)))
    error_message = "The ami_ssm_parameter must be empty or a path such as /my-app/image/ami-id."
  }
}

variable "subnet_id" {
  description = "Subnet of the build instance; it needs outbound HTTPS to SSM, the registry and the package mirrors. Empty: the default VPC."
  type        = string
  default     = ""

  validation {
    condition     = var.subnet_id == "" || can(regex("^subnet-[0-9a-f]{8,17}$", var.subnet_id))
    error_message = "The subnet_id must be empty or a subnet id such as subnet-0123456789abcdef0."
  }
}

variable "associate_public_ip" {
  description = "Give the build instance a public address (CI: true, for the bootstrap's build subnet, which has an internet gateway and no NAT). False: the subnet's own setting."
  type        = bool
  default     = false
}

variable "iam_instance_profile" {
  description = "Instance profile of the build instance (CI: the bootstrap stack's output packer_instance_profile). Empty: Packer creates a temporary one, which needs iam:CreateRole and iam:PassRole."
  type        = string
  default     = ""

  validation {
    condition     = var.iam_instance_profile == "" || can(regex("^[A-Za-z0-9+=,.@_-]{1,128}$", var.iam_instance_profile))
    error_message = "The iam_instance_profile must be empty or an instance profile name such as my-app-packer-build."
  }
}

variable "tags" {
  description = "Extra tags on the AMI, its snapshots and the build instance. The build's own tags (app, version, git_sha, ...) win on a clash."
  type        = map(string)
  default     = {}

  validation {
    condition     = length([for k, v in var.tags : k if length(k) < 1 || length(k) > 128 || length(v) > 256 || can(regex("^aws:", k))]) == 0
    error_message = "Tag keys must be 1-128 characters and not start with aws:, values at most 256 characters."
  }
}
