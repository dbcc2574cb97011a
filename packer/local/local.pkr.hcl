# The local bake (npm run image:local): the build steps of app.pkr.hcl, the same scripts with the same
# environment, run in a QEMU virtual machine on this computer instead of an EC2 build instance.
# managed/local-vm puts this file beside variables.pkr.hcl, files/, scripts/ and the project's
# *.auto.pkrvars.hcl in a scratch folder and runs `packer build` there; a test keeps the provisioners
# below equal to app.pkr.hcl's. Packer's qemu builder is built into Packer 1.6.6 and a plugin in
# current Packer (versions.pkr.hcl beside this file pins it; the runner leaves it out for 1.6.6).

variable "local_base_disk" {
  description = "Base disk of the VM: an official cloud image (qcow2) or a raw disk, e.g. the debootstrap disk of managed/local-vm/debootstrap-base.sh."
  type        = string
}

variable "local_base_disk_format" {
  description = "Format of local_base_disk as qemu-img names it: qcow2 or raw."
  type        = string
  default     = "qcow2"
}

variable "local_kernel" {
  description = "Kernel to boot directly (QEMU -kernel) for a disk without a boot loader; empty: the disk boots itself."
  type        = string
  default     = ""
}

variable "local_initrd" {
  description = "Initramfs for local_kernel."
  type        = string
  default     = ""
}

variable "local_accelerator" {
  description = "QEMU accelerator: kvm when it works on this machine, else tcg (software emulation, slower)."
  type        = string
  default     = "tcg"

  validation {
    condition     = contains(["kvm", "tcg"], var.local_accelerator)
    error_message = "The local_accelerator must be kvm or tcg."
  }
}

variable "local_output_dir" {
  description = "Folder that receives the baked disk (image.qcow2); must not exist yet."
  type        = string
}

variable "local_ssh_username" {
  description = "Build account of the base disk (admin on Debian, ubuntu on Ubuntu, ec2-user on AL2023)."
  type        = string
}

variable "local_ssh_private_key_file" {
  description = "Private key the build account accepts."
  type        = string
}

variable "local_cloudwatch_agent_url" {
  description = "Where install-runtime.sh downloads the CloudWatch agent package: the runner serves a recording stand-in on the host."
  type        = string
}

variable "local_serial_log" {
  description = "File that receives the VM's serial console (boot messages), for diagnosis."
  type        = string
}

locals {
  # app.pkr.hcl's, plus where the agent comes from (a test compares them): the scripts see what they see on EC2.
  local_sudo_execute = "chmod +x {{ .Path }}; sudo env {{ .Vars }} {{ .Path }}"
  local_script_env = [
    "APP_NAME=${var.app_name}",
    "APP_VERSION=${var.app_version}",
    "AWS_REGION=${var.aws_region}",
    "BASE_OS=${var.base_os}",
    "CONTAINER_IMAGE=${var.container_image}",
    "APP_PORT=${var.app_port}",
    "HEALTH_CHECK_PATH=${var.health_check_path}",
    "STAGING_DIR=/tmp/immutable-app",
    "CLOUDWATCH_AGENT_URL=${var.local_cloudwatch_agent_url}",
  ]
  direct_boot = var.local_kernel == "" ? [] : [
    ["-kernel", var.local_kernel],
    ["-initrd", var.local_initrd],
    ["-append", "root=/dev/vda rw console=ttyS0 net.ifnames=0"],
  ]
}

source "qemu" "local" {
  iso_url          = var.local_base_disk
  iso_checksum     = "none"
  disk_image       = true
  use_backing_file = false
  skip_resize_disk = true
  format           = "qcow2"
  disk_interface   = "virtio"
  net_device       = "virtio-net"
  accelerator      = var.local_accelerator
  cpus             = 2
  memory           = 2048
  headless         = true
  output_directory = var.local_output_dir
  vm_name          = "image.qcow2"
  qemuargs         = concat(local.direct_boot, [["-serial", "file:${var.local_serial_log}"]])

  communicator         = "ssh"
  ssh_username         = var.local_ssh_username
  ssh_private_key_file = var.local_ssh_private_key_file
  # Software emulation on a shared 2-core machine boots in about a minute; generous, but bounded.
  ssh_timeout      = "15m"
  shutdown_command = "sudo systemctl poweroff"
  shutdown_timeout = "10m"
}

build {
  name    = "local"
  sources = ["source.qemu.local"]

  provisioner "shell" {
    inline = ["mkdir -p /tmp/immutable-app"]
  }

  provisioner "file" {
    source      = "${path.root}/files/"
    destination = "/tmp/immutable-app/"
  }

  provisioner "shell" {
    environment_vars = local.local_script_env
    execute_command  = local.local_sudo_execute
    scripts = [
      "${path.root}/scripts/install-runtime.sh",
      "${path.root}/scripts/install-app.sh",
      "${path.root}/scripts/harden.sh",
    ]
  }

  provisioner "shell" {
    environment_vars = local.local_script_env
    execute_command  = local.local_sudo_execute
    script           = "${path.root}/scripts/test-image.sh"
  }

  provisioner "shell" {
    environment_vars = local.local_script_env
    execute_command  = local.local_sudo_execute
    script           = "${path.root}/scripts/cleanup.sh"
  }
}
