//! The nodes under test: one `herald serve` on its own SQLite store, or
//! several sharing a fresh PostgreSQL database. Each node has its own data
//! directory and port; the load is spread over all of them and resources
//! are summed over all of them (PostgreSQL's own are not counted).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::bail;

use super::database::ScratchDatabase;
use super::server::ServerProcess;

pub(crate) struct Cluster {
    nodes: Vec<ServerProcess>,
    database: Option<ScratchDatabase>,
}

impl Cluster {
    /// Starts `nodes` nodes on a fresh database on the `database` server,
    /// or one node on SQLite without it.
    pub(crate) async fn start(
        database: Option<&str>,
        nodes: usize,
        server_args: &[String],
    ) -> anyhow::Result<Cluster> {
        let Some(admin_url) = database else {
            let node = ServerProcess::start(server_args, &[]).await?;
            return Ok(Cluster {
                nodes: vec![node],
                database: None,
            });
        };
        let database = ScratchDatabase::create(admin_url).await?;
        match start_nodes(nodes, server_args, database.url()).await {
            Ok(nodes) => Ok(Cluster {
                nodes,
                database: Some(database),
            }),
            Err(error) => {
                remove(database).await;
                Err(error)
            }
        }
    }

    /// The node the bench configures webhooks and reads stats through.
    pub(crate) fn first(&self) -> &ServerProcess {
        &self.nodes[0]
    }

    pub(crate) fn addrs(&self) -> Vec<SocketAddr> {
        self.nodes.iter().map(|n| n.addr).collect()
    }

    /// Waits until every node routes the bench event to all `webhooks`.
    /// Nodes other than the one that created them learn of new webhooks
    /// from the database's notifications; an event posted to a node that
    /// has not yet would be stored with no delivery, and the run would
    /// wait for deliveries that never come.
    pub(crate) async fn wait_routed(&self, webhooks: usize) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        for (i, node) in self.nodes.iter().enumerate().skip(1) {
            loop {
                let routed = routed_webhooks(node).await?;
                if routed >= webhooks {
                    break;
                }
                if Instant::now() > deadline {
                    bail!(
                        "node {} routes the bench event to {routed} of {webhooks} webhooks \
                         10 s after they were created through node 1: do the nodes share \
                         the database?",
                        i + 1
                    );
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        Ok(())
    }

    /// Sum of the nodes' peak resident memory, in MiB.
    pub(crate) fn peak_rss_mb(&self) -> f64 {
        self.nodes.iter().map(ServerProcess::peak_rss_mb).sum()
    }

    /// Sum of the nodes' current resident memory, in MiB.
    pub(crate) fn rss_mb(&self) -> f64 {
        self.nodes.iter().map(ServerProcess::rss_mb).sum()
    }

    /// CPU time all nodes have used, in seconds.
    pub(crate) fn cpu_seconds(&self) -> f64 {
        self.nodes.iter().map(ServerProcess::cpu_seconds).sum()
    }

    /// Kills the nodes, then drops the database.
    pub(crate) async fn stop(self) {
        for node in self.nodes {
            node.stop().await;
        }
        if let Some(database) = self.database {
            remove(database).await;
        }
    }
}

/// Starts the nodes one after another: the first migrates the empty
/// database alone, the others find it ready.
async fn start_nodes(
    count: usize,
    server_args: &[String],
    database_url: &str,
) -> anyhow::Result<Vec<ServerProcess>> {
    // Nodes on one database must seal secrets with the same key; the admin
    // token is already the same for every node.
    let master_key = herald_store::MasterKey::generate().to_base64();
    let env = [
        ("HERALD_DATABASE_URL", database_url),
        ("HERALD_MASTER_KEY", master_key.as_str()),
    ];
    let mut nodes = Vec::with_capacity(count);
    for i in 0..count {
        let node = ServerProcess::start(server_args, &env)
            .await
            .map_err(|e| e.context(format!("node {} of {count}", i + 1)))?;
        nodes.push(node);
    }
    Ok(nodes)
}

/// A database that cannot be dropped is reported, not fatal: the figures
/// are still good, and the name says what to drop by hand.
async fn remove(database: ScratchDatabase) {
    let name = database.name().to_string();
    if let Err(error) = database.remove().await {
        eprintln!("warning: {error:#}; drop the database {name} by hand");
    }
}

/// How many webhooks `node` routes the bench event to: the webhook list
/// filtered by event type is answered from the node's own routing table.
async fn routed_webhooks(node: &ServerProcess) -> anyhow::Result<usize> {
    let api = node.api()?;
    let mut filter = herald_client::WebhookFilter {
        event_type: Some("bench.event".to_string()),
        limit: Some(250),
        ..Default::default()
    };
    let mut count = 0;
    loop {
        let page = api.list_webhooks(&filter).await?;
        count += page.data.len();
        match page.next_cursor {
            Some(next) => filter.cursor = Some(next),
            None => return Ok(count),
        }
    }
}
