//! Family `alb`: AWS Load Balancer Controller Ingress → ALB.
pub mod alb001;
pub mod alb002;
pub mod alb003;
