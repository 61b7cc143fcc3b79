//! A network link between the app and the server that a test can cut: a TCP relay on
//! loopback. Cut, its port refuses connections and open connections die, which is what
//! the app sees when the school's network goes down while the server stays up.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// A loopback relay to the server that can be cut and restored on the same port.
pub struct Link {
    addr: SocketAddr,
    target: SocketAddr,
    relay: Option<JoinHandle<()>>,
}

impl Link {
    /// A relay to `server_url` (`http://127.0.0.1:PORT`), open.
    ///
    /// # Panics
    /// When the address is not an IP address and port, or no loopback port is free.
    pub async fn to(server_url: &str) -> Link {
        let target: SocketAddr = server_url
            .trim_start_matches("http://")
            .parse()
            .expect("the test server listens on an IP address");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind relay");
        let addr = listener.local_addr().expect("relay address");
        Link {
            addr,
            target,
            relay: Some(tokio::spawn(relay(listener, target))),
        }
    }

    /// The address to give the app instead of the server's.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops listening and drops every open connection.
    pub async fn cut(&mut self) {
        if let Some(relay) = self.relay.take() {
            relay.abort();
            let _ = relay.await;
        }
    }

    /// Listens again on the same port.
    ///
    /// # Panics
    /// When something else took the port meanwhile.
    pub async fn restore(&mut self) {
        if self.relay.is_none() {
            let listener = TcpListener::bind(self.addr).await.expect("rebind relay");
            self.relay = Some(tokio::spawn(relay(listener, self.target)));
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        if let Some(relay) = self.relay.take() {
            relay.abort();
        }
    }
}

async fn relay(listener: TcpListener, target: SocketAddr) {
    // Dropping the set (when this task is aborted) aborts every connection with it.
    let mut connections = JoinSet::new();
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            continue;
        };
        // Forget finished connections, so a long test does not pile them up.
        while connections.try_join_next().is_some() {}
        connections.spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(target).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}
