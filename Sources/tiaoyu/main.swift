print("tiaoyu")
