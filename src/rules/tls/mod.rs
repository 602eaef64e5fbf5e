//! Family `tls`: where TLS terminates between the load balancer, the gateway and the app.
pub mod tls001;
pub mod tls002;
pub mod tls005;
