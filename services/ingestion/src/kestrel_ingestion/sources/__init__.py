"""Bar sources of the ingestion service: exchange feeds, file replay, samples and the synthetic generator.

Each one satisfies `kestrel_ingestion.domain.BarSource`.
"""
