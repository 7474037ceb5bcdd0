# The shared ALB of an environment: one listener rule per host, forwarding
# to a blue and a green target group. eksbg shifts traffic by changing the
# rules' forward weights; Terraform creates the rules and then leaves their
# actions alone. See docs/terraform.md.

locals {
  colors = ["blue", "green"]
  https  = var.certificate_arn != null

  target_groups = {
    for pair in setproduct(keys(var.hosts), local.colors) : "${pair[0]}-${pair[1]}" => {
      host  = pair[0]
      color = pair[1]
      name  = "${var.name}-${pair[0]}-${pair[1]}"
    }
  }

  # The listener the host rules hang on.
  rules_listener_arn = local.https ? aws_lb_listener.https[0].arn : aws_lb_listener.http.arn
}

resource "aws_security_group" "alb" {
  name_prefix = "${var.name}-alb-"
  description = "ALB ${var.name}"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-alb" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "listeners" {
  for_each = { for p in setproduct(local.https ? [80, 443] : [80], var.ingress_cidr_blocks) : "${p[0]}-${p[1]}" => p }

  security_group_id = aws_security_group.alb.id
  ip_protocol       = "tcp"
  from_port         = each.value[0]
  to_port           = each.value[0]
  cidr_ipv4         = each.value[1]
}

# Targets are pod IPs anywhere in the VPC (either color's cluster), in a
# secondary CIDR with custom networking. Counted, not keyed by CIDR, so
# that a VPC created in the same apply works.
resource "aws_vpc_security_group_egress_rule" "targets" {
  count = length(var.target_cidr_blocks)

  security_group_id = aws_security_group.alb.id
  description       = "Requests and health checks to pod targets"
  ip_protocol       = "tcp"
  from_port         = 0
  to_port           = 65535
  cidr_ipv4         = var.target_cidr_blocks[count.index]
}

resource "aws_lb" "this" {
  name                       = var.name
  load_balancer_type         = "application"
  internal                   = var.internal
  subnets                    = var.subnet_ids
  security_groups            = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  tags                       = var.tags
}

resource "aws_lb_target_group" "this" {
  for_each = local.target_groups

  name = each.value.name
  # Pods register by IP through the AWS Load Balancer Controller's
  # TargetGroupBinding, so that either cluster's pods can be targets.
  target_type          = "ip"
  port                 = var.hosts[each.value.host].port
  protocol             = var.hosts[each.value.host].protocol
  vpc_id               = var.vpc_id
  deregistration_delay = var.deregistration_delay

  health_check {
    path                = var.hosts[each.value.host].health_check_path
    matcher             = "200-399"
    interval            = 10
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }

  tags = merge(var.tags, {
    "eksbg.io/color" = each.value.color
    "eksbg.io/host"  = each.value.host
  })

  lifecycle {
    precondition {
      condition     = length(each.value.name) <= 32
      error_message = "Target group name ${each.value.name} is longer than 32 characters: shorten name or the hosts key."
    }
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  # With a certificate, HTTP only redirects; without, it carries the rules
  # and answers 404 for unknown hosts.
  dynamic "default_action" {
    for_each = local.https ? [1] : []
    content {
      type = "redirect"
      redirect {
        port        = "443"
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }
  }
  dynamic "default_action" {
    for_each = local.https ? [] : [1]
    content {
      type = "fixed-response"
      fixed_response {
        content_type = "text/plain"
        message_body = "no such host"
        status_code  = "404"
      }
    }
  }

  tags = var.tags
}

resource "aws_lb_listener" "https" {
  count = local.https ? 1 : 0

  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = var.certificate_arn

  default_action {
    type = "fixed-response"
    fixed_response {
      content_type = "text/plain"
      message_body = "no such host"
      status_code  = "404"
    }
  }

  tags = var.tags
}

resource "aws_lb_listener_rule" "host" {
  for_each = var.hosts

  listener_arn = local.rules_listener_arn
  priority     = each.value.priority

  action {
    type = "forward"
    forward {
      target_group {
        arn    = aws_lb_target_group.this["${each.key}-blue"].arn
        weight = var.initial_color == "blue" ? 100 : 0
      }
      target_group {
        arn    = aws_lb_target_group.this["${each.key}-green"].arn
        weight = var.initial_color == "green" ? 100 : 0
      }
    }
  }

  condition {
    host_header {
      values = each.value.host_headers
    }
  }

  tags = merge(var.tags, { "eksbg.io/host" = each.key })

  lifecycle {
    # eksbg owns the forward weights from the moment the rule exists; a
    # plan must neither reset them nor report them as drift. The weights
    # sit in a set of target_group blocks, which ignore_changes cannot
    # address one by one, so the whole action is ignored: changing a
    # target group of an existing rule takes terraform apply -replace on
    # the rule, between upgrades.
    ignore_changes = [action]
  }
}
