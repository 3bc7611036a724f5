"""What every adapter shares: settings, Kafka client configuration, topics and the embedded broker."""
