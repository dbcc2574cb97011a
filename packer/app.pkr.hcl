# Bakes one app into a golden AMI:  bake -> test -> clean -> manifest -> publish the AMI id.
# Instances boot from it with no package installs and no registry pulls; only config comes at boot.

locals {
  # Official publishers only (Canonical, Amazon, Debian), newest build that matches; never a marketplace copy.
  base_images = {
    "ubuntu-24.04" = {
      name_filter  = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-${var.architecture == "arm64" ? "arm64" : "amd64"}-server-*"
      owner        = "099720109477"
      ssh_username = "ubuntu"
      root_device  = "/dev/sda1"
    }
    al2023 = {
      name_filter  = "al2023-ami-2023.*-kernel-*-${var.architecture}"
      owner        = "137112412989"
      ssh_username = "ec2-user"
      root_device  = "/dev/xvda"
    }
    # The Debian cloud team's account (kubernetes/kops#12161: "Debian 11: Release AMIs use same AWS
    # Owner ID as Buster"), names debian-12-<amd64|arm64>-<date>-<build> (wiki.debian.org/Cloud/AmazonEC2Image);
    # "For a Debian AMI, the username is admin" (AWS EC2 User Guide, "Manage system users").
    "debian-12" = {
      name_filter  = "debian-12-${var.architecture == "arm64" ? "arm64" : "amd64"}-*"
      owner        = "136693071363"
      ssh_username = "admin"
      root_device  = "/dev/xvda"
    }
  }
  base_image = local.base_images[var.base_os]

  build_time    = timestamp()
  ami_timestamp = formatdate("YYYYMMDDhhmmss", local.build_time)
  ami_name      = "${var.app_name}-${var.app_version}-${local.ami_timestamp}"
  manifest_path = "${path.root}/packer-manifest.json"

  # The build's own tags come last so that var.tags cannot overwrite what identifies the image.
  # {{ .SourceAMI }} is filled in by the amazon plugin when it tags.
  image_tags = merge(var.tags, {
    Name          = local.ami_name
    app           = var.app_name
    version       = var.app_version
    git_sha       = var.git_sha
    base_os       = var.base_os
    base_ami      = "{{ .SourceAMI }}"
    base_ami_name = "{{ .SourceAMIName }}"
    build_time    = local.build_time
    "managed-by"  = "create-immutable-app"
  })

  # Scripts run as root; Packer quotes each value of {{ .Vars }}.
  sudo_execute = "chmod +x {{ .Path }}; sudo env {{ .Vars }} {{ .Path }}"
  script_env = [
    "APP_NAME=${var.app_name}",
    "APP_VERSION=${var.app_version}",
    "AWS_REGION=${var.aws_region}",
    "BASE_OS=${var.base_os}",
    "CONTAINER_IMAGE=${var.container_image}",
    "APP_PORT=${var.app_port}",
    "HEALTH_CHECK_PATH=${var.health_check_path}",
    "STAGING_DIR=/tmp/immutable-app",
  ]
}

source "amazon-ebs" "app" {
  region        = var.aws_region
  instance_type = var.instance_type
  subnet_id     = var.subnet_id == "" ? null : var.subnet_id
  # CI: the bootstrap's build subnet gives no address by default; the instance needs one for Session Manager.
  associate_public_ip_address = var.associate_public_ip ? true : null

  # The root volume is encrypted when the build instance starts, so CreateImage makes encrypted
  # snapshots, tagged with run_tags in the same call: no encrypt_boot copy, whose image and snapshots
  # would be made and tagged outside a create call that the bake role can hold to the app's tag
  # (managed/ci-policies.ts). root_device is the base image's RootDeviceName (Ubuntu /dev/sda1 and
  # AL2023 /dev/xvda as moto's copy of the publishers' AMIs lists them; Debian's /dev/xvda not checked).
  launch_block_device_mappings {
    device_name           = local.base_image.root_device
    encrypted             = true
    delete_on_termination = true
    volume_type           = "gp3"
  }

  source_ami_filter {
    filters = {
      name                = local.base_image.name_filter
      architecture        = var.architecture
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = [local.base_image.owner]
    most_recent = true
  }

  ami_name        = local.ami_name
  ami_description = "${var.app_name} ${var.app_version} (${var.git_sha}) on ${var.base_os}"
  # Instances launched from this AMI get IMDSv2 only, whatever the launch template forgets.
  imds_support = "v2.0"

  # The build instance itself: IMDSv2 only, and a hop limit of 1 keeps containers away from its role.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  # Packer reaches the build instance through an SSM tunnel: no inbound rule, port 22 never opens
  # to any network (the plugin skips the SSH rule of its temporary security group).
  communicator            = "ssh"
  ssh_username            = local.base_image.ssh_username
  ssh_interface           = "session_manager"
  temporary_key_pair_type = "ed25519"

  # The build instance's role. In CI: the instance profile the bootstrap stack made (variable
  # iam_instance_profile, set from the repository variable PACKER_INSTANCE_PROFILE), the only role the
  # bake role may pass; it creates none. A local build without it gets Packer's temporary profile,
  # created with the caller's own (administrator's) credentials and deleted after the build.
  iam_instance_profile = var.iam_instance_profile == "" ? null : var.iam_instance_profile

  # Exists only while the build runs: Session Manager for the tunnel, ECR read for a private image.
  dynamic "temporary_iam_instance_profile_policy_document" {
    for_each = var.iam_instance_profile == "" ? [1] : []
    content {
      Version = "2012-10-17"
      Statement {
        Effect = "Allow"
        Action = [
          "ssm:UpdateInstanceInformation",
          "ssmmessages:CreateControlChannel",
          "ssmmessages:CreateDataChannel",
          "ssmmessages:OpenControlChannel",
          "ssmmessages:OpenDataChannel",
        ]
        Resource = ["*"]
      }
      Statement {
        Effect = "Allow"
        Action = [
          "ecr:GetAuthorizationToken",
          "ecr:BatchGetImage",
          "ecr:GetDownloadUrlForLayer",
        ]
        Resource = ["*"]
      }
    }
  }

  tags            = local.image_tags
  snapshot_tags   = local.image_tags
  run_tags        = merge(local.image_tags, { Name = "packer-build-${local.ami_name}" })
  run_volume_tags = local.image_tags
}

build {
  name    = "app"
  sources = ["source.amazon-ebs.app"]

  # 1. Bake: runtime (Docker, AWS CLI, CloudWatch agent), the app image, its units, hardening.
  provisioner "shell" {
    inline = ["mkdir -p /tmp/immutable-app"]
  }

  provisioner "file" {
    source      = "${path.root}/files/"
    destination = "/tmp/immutable-app/"
  }

  provisioner "shell" {
    environment_vars = local.script_env
    execute_command  = local.sudo_execute
    scripts = [
      "${path.root}/scripts/install-runtime.sh",
      "${path.root}/scripts/install-app.sh",
      "${path.root}/scripts/harden.sh",
    ]
  }

  # 2. Test: the service starts from the baked image and answers its health path; nothing listens
  #    on port 22. A failed check fails the build, so no AMI is registered.
  provisioner "shell" {
    environment_vars = local.script_env
    execute_command  = local.sudo_execute
    script           = "${path.root}/scripts/test-image.sh"
  }

  # 3. Clean: test leftovers, caches, logs, machine-id, host keys, authorized keys.
  provisioner "shell" {
    environment_vars = local.script_env
    execute_command  = local.sudo_execute
    script           = "${path.root}/scripts/cleanup.sh"
  }

  post-processors {
    # 4. Manifest: AMI id, version and commit, for CI and for `terraform apply -var ami_id=...`.
    post-processor "manifest" {
      output     = local.manifest_path
      strip_path = true
      custom_data = {
        app_name    = var.app_name
        app_version = var.app_version
        git_sha     = var.git_sha
        base_os     = var.base_os
        ami_name    = local.ami_name
      }
    }

    # 5. Publish (only when ami_ssm_parameter is set): the AMI id as an aws:ec2:image parameter,
    #    which EC2 validates and which launch templates can resolve.
    post-processor "shell-local" {
      environment_vars = [
        "AMI_SSM_PARAMETER=${var.ami_ssm_parameter}",
        "AWS_REGION=${var.aws_region}",
        "MANIFEST=${local.manifest_path}",
      ]
      execute_command = ["bash", "-c", "{{ .Vars }} bash {{ .Script }}"]
      script          = "${path.root}/scripts/publish-ami-id.sh"
    }
  }
}
