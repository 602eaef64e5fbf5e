//! Family `workload`: Service, pod and Namespace wiring that the load-balancer and mesh rules
//! depend on.
pub mod wrk001;
pub mod wrk002;
pub mod wrk003;
pub mod wrk004;
pub mod wrk005;
pub mod wrk006;
pub mod wrk007;
pub mod wrk008;
pub mod wrk009;
