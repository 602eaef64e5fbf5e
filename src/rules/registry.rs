//! Every rule meshlint knows, in code order.

use super::{
    Rule, alb, api, gke, grpc_h2, istio_gateway, istio_routing, meta, multicluster, serviceentry,
    tls, yaml,
};

pub static ALL: &[&Rule] = &[
    &alb::alb001::RULE,
    &alb::alb002::RULE,
    &alb::alb003::RULE,
    &api::api004::RULE,
    &api::api005::RULE,
    &gke::gke001::RULE,
    &gke::gke002::RULE,
    &gke::gke003::RULE,
    &grpc_h2::h2001::RULE,
    &grpc_h2::h2002::RULE,
    &istio_gateway::igw001::RULE,
    &istio_gateway::igw002::RULE,
    &istio_gateway::igw003::RULE,
    &istio_gateway::igw004::RULE,
    &istio_gateway::igw005::RULE,
    &istio_gateway::igw006::RULE,
    &istio_routing::irt001::RULE,
    &istio_routing::irt002::RULE,
    &istio_routing::irt003::RULE,
    &istio_routing::irt004::RULE,
    &istio_routing::irt005::RULE,
    &istio_routing::irt006::RULE,
    &istio_routing::irt007::RULE,
    &istio_routing::irt008::RULE,
    &istio_routing::irt009::RULE,
    &istio_routing::irt010::RULE,
    &istio_routing::irt011::RULE,
    &istio_routing::irt012::RULE,
    &istio_routing::irt013::RULE,
    &istio_routing::irt014::RULE,
    &istio_routing::irt015::RULE,
    &istio_routing::irt016::RULE,
    &istio_routing::irt017::RULE,
    &istio_routing::irt018::RULE,
    &istio_routing::irt019::RULE,
    &multicluster::mc003::RULE,
    &meta::mln001::RULE,
    &meta::mln002::RULE,
    &meta::mln003::RULE,
    &serviceentry::se001::RULE,
    &serviceentry::se002::RULE,
    &tls::tls001::RULE,
    &tls::tls002::RULE,
    &tls::tls005::RULE,
    &super::workload::wrk001::RULE,
    &super::workload::wrk002::RULE,
    &super::workload::wrk003::RULE,
    &super::workload::wrk004::RULE,
    &super::workload::wrk005::RULE,
    &super::workload::wrk006::RULE,
    &super::workload::wrk007::RULE,
    &super::workload::wrk008::RULE,
    &super::workload::wrk009::RULE,
    &yaml::yaml001::RULE,
    &yaml::yaml002::RULE,
    &yaml::yaml003::RULE,
];

/// Finds a rule by code (`GKE001`) or id (`gke-sni-less-https-backend`), case-insensitively.
pub fn find(name: &str) -> Option<&'static Rule> {
    ALL.iter()
        .copied()
        .find(|r| r.code.eq_ignore_ascii_case(name) || r.id.eq_ignore_ascii_case(name))
}
