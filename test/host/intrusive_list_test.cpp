#include <kernel/lib/intrusive_list.h>

#include <gtest/gtest.h>

#include <memory>
#include <vector>

using namespace tessera;

namespace {

struct Job {
    explicit Job(int id)
        : id(id)
    {
    }
    int id;
    IntrusiveListNode node;
};
using JobList = IntrusiveList<Job, &Job::node>;

std::vector<int> ids(JobList& list)
{
    std::vector<int> out;
    for (auto& job : list)
        out.push_back(job.id);
    return out;
}

TEST(IntrusiveList, RangeForVisitsInOrder)
{
    Job a(1), b(2), c(3);
    JobList list;
    EXPECT_EQ(list.begin(), list.end());
    list.append(b);
    list.append(c);
    list.prepend(a);
    EXPECT_EQ(ids(list), (std::vector<int> { 1, 2, 3 }));
    EXPECT_EQ(list.begin()->id, 1);
    EXPECT_EQ(list.size(), 3u);
    while (list.take_first() != nullptr) { }
}

TEST(IntrusiveList, RangeForMayUnlinkTheCurrentElement)
{
    std::vector<std::unique_ptr<Job>> jobs;
    for (int i = 0; i < 10; ++i)
        jobs.push_back(std::make_unique<Job>(i));
    JobList list;
    for (auto& job : jobs)
        list.append(*job);
    int visited = 0;
    for (auto& job : list) {
        ++visited;
        if (job.id % 2 == 0)
            list.remove(job);
    }
    EXPECT_EQ(visited, 10);
    EXPECT_EQ(ids(list), (std::vector<int> { 1, 3, 5, 7, 9 }));
    // Unlinking every element, the last one included.
    for (auto& job : list)
        list.remove(job);
    EXPECT_TRUE(list.is_empty());
}

TEST(IntrusiveList, ExistingApiStillWorks)
{
    Job a(1), b(2), c(3);
    JobList list;
    list.append(a);
    list.append(c);
    list.insert_before(c, b);
    EXPECT_EQ(list.first(), &a);
    EXPECT_EQ(list.last(), &c);
    EXPECT_EQ(list.next_of(a), &b);
    EXPECT_EQ(list.next_of(c), nullptr);
    std::vector<int> seen;
    list.for_each([&](Job& job) {
        seen.push_back(job.id);
        list.remove(job);
    });
    EXPECT_EQ(seen, (std::vector<int> { 1, 2, 3 }));
    EXPECT_TRUE(list.is_empty());
}

} // namespace
