//! Family `grpc-h2`: gRPC, HTTP/2 and h2c across load balancer, gateway and app.
pub mod h2001;
pub mod h2002;
